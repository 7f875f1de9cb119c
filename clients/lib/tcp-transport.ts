/** Node-only: TCP links, line-delimited (the original protocol) or length-prefixed, plain or TLS. */
import { connect, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import {
  encodeLengthPrefixed,
  type Framer,
  LengthPrefixedFramer,
  LineFramer,
} from "../../src/protocol/index.js";
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  type Link,
  type LinkHandlers,
  type Transport,
} from "./transport.js";

export type TcpFraming = "line" | "length-prefixed";

/**
 * How to check a TLS server. Without `ca`, Node's trusted CAs (plus any in the file named by
 * NODE_EXTRA_CA_CERTS when the process started) must have signed its certificate.
 */
export interface ClientTlsOptions {
  /** CA certificates (PEM) to trust instead of Node's own */
  ca?: string | Buffer | Array<string | Buffer>;
  /** name the certificate must be for; default the host (when it is a name, not an address) */
  servername?: string;
}

export interface TcpTransportOptions {
  host: string;
  port: number;
  /** Default "line" (what the original server speaks) */
  framing?: TcpFraming;
  /** time allowed for the TCP handshake, in ms. Default 10,000 */
  connectTimeoutMs?: number;
  /**
   * Largest event accepted, in bytes. Default 16 MiB: server events can be far larger than the
   * commands the server accepts (a member list of a full room).
   */
  maxFrameBytes?: number;
  /** speak TLS (the server's `--tls-cert`); absent: plain TCP */
  tls?: ClientTlsOptions;
}

const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** After close(), time the server gets to take our last bytes before the socket is cut, in ms. */
const CLOSE_GRACE_MS = 2_000;

export function tcpTransport(options: TcpTransportOptions): Transport {
  const framing = options.framing ?? "line";
  const scheme = framing === "line" ? (options.tls ? "tls" : "tcp") : options.tls ? "lps" : "lp";
  return {
    description: `${scheme}://${options.host}:${options.port}`,
    open: (handlers) => new TcpLink(options, framing, handlers),
  };
}

class TcpLink implements Link {
  private readonly socket: Socket;
  private readonly framer: Framer;
  private error: Error | undefined;
  private ended = false;

  constructor(
    options: TcpTransportOptions,
    private readonly framing: TcpFraming,
    handlers: LinkHandlers,
  ) {
    const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.framer = framing === "line" ? new LineFramer(max) : new LengthPrefixedFramer(max);
    const tls = options.tls;
    const socket = tls
      ? connectTls({
          host: options.host,
          port: options.port,
          ...(tls.ca !== undefined && { ca: tls.ca }),
          ...(tls.servername !== undefined && { servername: tls.servername }),
        })
      : connect({ host: options.host, port: options.port });
    this.socket = socket;
    socket.setNoDelay(true);
    const connectTimeout = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    socket.setTimeout(connectTimeout, () => {
      socket.destroy(new Error(`connect timed out after ${connectTimeout} ms`));
    });
    // open once the handshake is done and the server's certificate checked
    socket.once(tls ? "secureConnect" : "connect", () => {
      socket.setTimeout(0);
      handlers.onOpen();
    });
    socket.on("data", (chunk: Buffer) => {
      this.framer.push(chunk);
      for (;;) {
        if (socket.destroyed) return;
        const frame = this.framer.next();
        if (frame === undefined) return;
        if (typeof frame === "string") handlers.onFrame(frame);
        else if (frame.fatal) socket.destroy(new Error(`${frame.code}: ${frame.message}`));
        // a non-fatal frame error (bad UTF-8) costs that frame only
      }
    });
    socket.on("error", (err) => {
      this.error ??= err;
    });
    socket.once("close", () => handlers.onClose(this.error));
  }

  send(text: string): void {
    if (this.ended || this.socket.destroyed) return;
    this.socket.write(this.framing === "line" ? text + "\r\n" : encodeLengthPrefixed(text));
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.socket.end();
    const cut = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    cut.unref();
    this.socket.once("close", () => clearTimeout(cut));
  }
}
