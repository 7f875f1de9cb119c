#!/usr/bin/env node
/**
 * parley-tui: the terminal client. `parley-tui [--server ADDRESS] [--name NAME]`; ADDRESS is
 * host:port (line-delimited TCP, the original protocol), lp://host:port or ws://host:port/ws;
 * it prefills the connect page (default localhost:8080). Exit code 0 after quitting, 2 on a bad
 * command line.
 */
import { parseArgs } from "node:util";
import { render } from "ink";
import { parseAddress } from "../lib/address.js";
import { transportFor } from "../lib/node.js";
import { ParleyClient } from "../lib/parley-client.js";
import { App } from "./app.js";
import { ChatController } from "./chat-controller.js";
import { DEFAULT_SERVER_ADDRESS } from "./components/connect-page.js";

const USAGE = `usage: parley-tui [--server host:port | lp://host:port | ws://host:port/ws] [--name NAME]
  --server, -s   server address to prefill on the connect page (default ${DEFAULT_SERVER_ADDRESS})
  --name, -n     display name to take (Parley servers; kept across reconnects)
`;

function main(): number | Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        server: { type: "string", short: "s" },
        name: { type: "string", short: "n" },
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
  const name = args.values.name;
  const controller = new ChatController(
    (address) =>
      new ParleyClient({
        transport: transportFor(parseAddress(address)),
        ...(name !== undefined && { name }),
      }),
  );
  const tty = process.stdout.isTTY;
  // The alternate screen, as full-screen terminal programs do: the shell's screen comes back on exit.
  if (tty) process.stdout.write("\x1b[?1049h\x1b[H");
  const instance = render(
    <App controller={controller} initialAddress={args.values.server ?? args.positionals[0]} />,
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
