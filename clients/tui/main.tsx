#!/usr/bin/env node
/**
 * parley-tui: the terminal client. `parley-tui [--server ADDRESSES | ADDRESSES...] [--name NAME]`;
 * an address is host:port (line-delimited TCP, the original protocol), lp://host:port or
 * ws://host:port/ws. Several addresses (commas or spaces between them) are the nodes of one
 * cluster: the TUI connects to the first that answers and, when its node goes away, reconnects
 * to the next and resumes there (failoverTransport). With addresses it connects at once (a
 * failure shows the connect page with the error and the addresses to edit); without, the
 * connect page asks, prefilled with localhost:8080. The name is optional (without it the user
 * goes by the server's user id), so it never holds up the connection. tls://host:port,
 * lps://host:port and wss:// are the same over TLS; `--ca FILE` trusts a private CA. `--token`
 * (or PARLEY_TOKEN) is a bearer token for a server with `--auth`. Exit code 0 after quitting, 2
 * on a bad command line (or a --ca file that cannot be read).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { render } from "ink";
import { parseAddressList } from "../lib/address.js";
import { failoverTransport } from "../lib/failover-transport.js";
import { transportFor } from "../lib/node.js";
import { ParleyClient } from "../lib/parley-client.js";
import { App } from "./app.js";
import { ChatController } from "./chat-controller.js";
import { DEFAULT_SERVER_ADDRESS } from "./components/connect-page.js";

const USAGE = `usage: parley-tui [--server ADDRESSES | ADDRESSES...] [--name NAME] [--token TOKEN] [--ca FILE]
  an ADDRESS is host:port (line-delimited TCP), lp://host:port or ws://host:port/ws;
                 over TLS: tls://host:port, lps://host:port or wss://host:port/ws
  ADDRESSES      one address, or the nodes of a cluster separated by commas:
                 127.0.0.1:8080,127.0.0.1:9080 connects to the first that answers and,
                 when that node goes away, reconnects to the next and resumes there with
                 nothing lost or repeated. The User Information panel shows the server
  --server, -s   connect to ADDRESSES at once; if that fails, the connect page shows why.
                 Without addresses, the connect page asks (prefilled: ${DEFAULT_SERVER_ADDRESS})
  --name, -n     display name to take (Parley servers; kept across reconnects).
                 Optional: without it you go by the user id the server gives
  --token, -t    bearer token (JWT) for a server with --auth, sent at each connection;
                 default: the PARLEY_TOKEN environment variable (preferred: other local
                 users can read a command line)
  --ca FILE      trust the CA certificate(s) in FILE (PEM) for TLS addresses, instead of
                 Node's own CAs (NODE_EXTRA_CA_CERTS=FILE adds to those instead)
  --help, -h     show this help
`;

function main(): number | Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        server: { type: "string", short: "s" },
        name: { type: "string", short: "n" },
        token: { type: "string", short: "t" },
        ca: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    });
  } catch (err) {
    process.stderr.write(`parley-tui: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const positional = args.positionals.length > 0 ? args.positionals.join(",") : undefined;
  if (positional !== undefined && args.values.server !== undefined) {
    process.stderr.write(`parley-tui: addresses with --server or without, not both\n${USAGE}`);
    return 2;
  }
  const address = args.values.server ?? positional;
  const name = args.values.name;
  const token = args.values.token ?? (process.env.PARLEY_TOKEN || undefined);
  let ca: Buffer | undefined;
  if (args.values.ca !== undefined) {
    try {
      ca = readFileSync(args.values.ca);
    } catch (err) {
      process.stderr.write(`parley-tui: --ca: ${(err as Error).message}\n`);
      return 2;
    }
  }
  const tls = ca !== undefined ? { ca } : {};
  const controller = new ChatController(
    (addresses) =>
      new ParleyClient({
        transport: failoverTransport(
          parseAddressList(addresses).map((a) => transportFor(a, undefined, tls)),
        ),
        ...(name !== undefined && { name }),
        ...(token !== undefined && { token }),
      }),
  );
  const tty = process.stdout.isTTY;
  // The alternate screen, as full-screen terminal programs do: the shell's screen comes back on exit.
  if (tty) process.stdout.write("\x1b[?1049h\x1b[H");
  const instance = render(
    <App
      controller={controller}
      {...(address !== undefined && { initialAddress: address, connectAtStart: true })}
    />,
    { exitOnCtrlC: false },
  );
  const quit = (): void => void controller.quit();
  process.on("SIGTERM", quit);
  process.on("SIGHUP", quit);
  return instance.waitUntilExit().then(
    () => {
      instance.cleanup();
      if (tty) process.stdout.write("\x1b[?1049l");
      return 0;
    },
    (err: unknown) => {
      if (tty) process.stdout.write("\x1b[?1049l");
      process.stderr.write(`parley-tui: ${String(err)}\n`);
      return 1;
    },
  );
}

void Promise.resolve(main()).then((code) => process.exit(code));
