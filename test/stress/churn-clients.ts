import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import {
  encodeLengthPrefixed,
  FrameError,
  type Framer,
  LengthPrefixedFramer,
  LineFramer,
} from "../../src/protocol/index.js";

export type ChurnTransport = "tcp" | "tcp-lp" | "ws";

/** Largest event the churn clients accept (login_successful with the bundled rooms is ~2.5 KiB). */
const MAX_EVENT_BYTES = 64 * 1024;

/**
 * A minimal client over one raw socket, for churn tests: it speaks line TCP, length-prefixed TCP
 * or WebSocket (its own handshake and masked frames, so a test can stop half-way through a frame
 * or drop the socket without a close frame, which the ws client library does not allow). Events
 * are kept as JSON text; `waitFor` hands out the first one containing a marker.
 */
export class RawClient {
  /** resolves once the socket has closed, whoever closed it */
  readonly closed: Promise<void>;
  /** resolves once the socket is connected (and, on WebSocket, upgraded) */
  readonly ready: Promise<void>;
  private readonly socket: Socket;
  private readonly messages: string[] = [];
  private waiter: (() => void) | undefined;
  private isClosed = false;
  private failure: string | undefined;
  private readonly wire: Wire;

  private constructor(
    readonly transport: ChurnTransport,
    port: number,
    onConnect?: (c: RawClient) => void,
  ) {
    this.socket = connect({ host: "127.0.0.1", port, noDelay: true });
    this.wire = transport === "ws" ? new WsWire(port) : new StreamWire(transport);
    let upgraded!: () => void;
    let refused!: (e: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      upgraded = resolve;
      refused = reject;
    });
    this.ready.catch(() => undefined);
    this.closed = new Promise((resolve) => {
      this.socket.once("close", () => {
        this.isClosed = true;
        refused(new Error(`closed before ready (${this.failure ?? "no error"})`));
        this.wake();
        resolve();
      });
    });
    this.socket.on("error", (err) => {
      this.failure ??= (err as NodeJS.ErrnoException).code ?? err.message;
    });
    this.socket.once("connect", () => {
      const opening = this.wire.opening();
      if (opening) this.socket.write(opening);
      else upgraded();
      onConnect?.(this);
    });
    this.socket.on("data", (chunk: Buffer) => {
      try {
        for (const out of this.wire.read(chunk)) {
          if (out.kind === "upgraded") upgraded();
          else if (out.kind === "message") this.messages.push(out.text);
          else this.socket.write(out.bytes); // the answer to a close frame
        }
      } catch (err) {
        this.failure = `bad input: ${(err as Error).message}`;
        this.socket.destroy();
      }
      this.wake();
    });
  }

  /** Connects to 127.0.0.1:`port`; `onConnect` runs as soon as TCP is up (before any reply). */
  static open(
    transport: ChurnTransport,
    port: number,
    onConnect?: (c: RawClient) => void,
  ): RawClient {
    return new RawClient(transport, port, onConnect);
  }

  /** Sends one whole command. */
  send(json: string): void {
    this.socket.write(this.wire.frame(json));
  }

  /** Sends `whole` complete and then the first half of `partial`'s bytes, in one write. */
  sendWithHalf(whole: string, partial: string): void {
    const all = this.wire.frame(partial);
    const half = all.subarray(0, Math.floor(all.length / 2));
    this.socket.write(Buffer.concat([this.wire.frame(whole), half]));
  }

  /** Ends the stream politely: TCP FIN, or a WebSocket close frame (1000). */
  closeGracefully(): void {
    const goodbye = this.wire.goodbye();
    if (goodbye) this.socket.write(goodbye);
    else this.socket.end();
  }

  /** Drops the socket with no goodbye of any kind. */
  destroy(): void {
    this.socket.destroy();
  }

  /** The first not yet taken message that contains every marker, within `ms`. */
  async waitFor(markers: readonly string[], ms: number): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.messages.findIndex((m) => markers.every((k) => m.includes(k)));
      if (i >= 0) return this.messages.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0 || this.isClosed) {
        throw new Error(
          `no message with ${markers.join(" ")}` +
            (this.isClosed ? ` (closed: ${this.failure ?? "by the server"})` : ` within ${ms} ms`),
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}

type WireOutput =
  { kind: "upgraded" } | { kind: "message"; text: string } | { kind: "reply"; bytes: Buffer };

/** How one transport turns commands into bytes and bytes into events. */
interface Wire {
  /** bytes to send right after TCP connects (the WebSocket upgrade request), if any */
  opening(): Buffer | undefined;
  frame(json: string): Buffer;
  /** the transport's own goodbye (a close frame), or undefined for a plain FIN */
  goodbye(): Buffer | undefined;
  read(chunk: Buffer): WireOutput[];
}

/** Line or length-prefixed TCP, decoded with the protocol's own framers. */
class StreamWire implements Wire {
  private readonly framer: Framer;

  constructor(private readonly kind: "tcp" | "tcp-lp") {
    this.framer =
      kind === "tcp" ? new LineFramer(MAX_EVENT_BYTES) : new LengthPrefixedFramer(MAX_EVENT_BYTES);
  }

  opening(): undefined {
    return undefined;
  }

  frame(json: string): Buffer {
    return this.kind === "tcp"
      ? Buffer.from(json + "\n", "utf8")
      : Buffer.from(encodeLengthPrefixed(json));
  }

  goodbye(): undefined {
    return undefined;
  }

  read(chunk: Buffer): WireOutput[] {
    this.framer.push(chunk);
    const out: WireOutput[] = [];
    for (let f = this.framer.next(); f !== undefined; f = this.framer.next()) {
      if (f instanceof FrameError) throw new Error(`${f.code}: ${f.message}`);
      out.push({ kind: "message", text: f });
    }
    return out;
  }
}

const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** RFC 6455 client side: upgrade request, masked frames out, unmasked frames in. */
class WsWire implements Wire {
  private upgraded = false;
  private buffer: Buffer = Buffer.alloc(0);
  private closeSent = false;

  constructor(private readonly port: number) {}

  opening(): Buffer {
    return Buffer.from(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${this.port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\n` +
        `Sec-WebSocket-Version: 13\r\n\r\n`,
    );
  }

  frame(json: string): Buffer {
    return maskedFrame(OP_TEXT, Buffer.from(json, "utf8"));
  }

  goodbye(): Buffer {
    this.closeSent = true;
    return maskedFrame(OP_CLOSE, Buffer.from([0x03, 0xe8])); // 1000, no reason
  }

  read(chunk: Buffer): WireOutput[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: WireOutput[] = [];
    if (!this.upgraded) {
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end < 0) return out;
      const status = this.buffer.subarray(0, this.buffer.indexOf("\r\n")).toString("latin1");
      if (!/^HTTP\/1\.1 101 /.test(status)) throw new Error(`upgrade refused: ${status}`);
      this.upgraded = true;
      this.buffer = this.buffer.subarray(end + 4);
      out.push({ kind: "upgraded" });
    }
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return out;
      const fin = (b[0]! & 0x80) !== 0;
      const op = b[0]! & 0x0f;
      let len = b[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) return out;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        throw new Error("64-bit frame length: larger than any event");
      }
      if (b.length < at + len) return out;
      const payload = b.subarray(at, at + len);
      this.buffer = b.subarray(at + len);
      if (!fin) throw new Error("fragmented frame: the server sends each event whole");
      if (op === OP_TEXT) out.push({ kind: "message", text: payload.toString("utf8") });
      else if (op === OP_PING) out.push({ kind: "reply", bytes: maskedFrame(OP_PONG, payload) });
      else if (op === OP_CLOSE) {
        if (!this.closeSent) {
          this.closeSent = true;
          out.push({ kind: "reply", bytes: maskedFrame(OP_CLOSE, payload.subarray(0, 2)) });
        }
      } else throw new Error(`unexpected opcode ${op}`);
    }
  }
}

function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const headLen = len < 126 ? 2 : 4;
  const frame = Buffer.alloc(headLen + 4 + len);
  frame[0] = 0x80 | opcode;
  if (len < 126) frame[1] = 0x80 | len;
  else {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(len, 2);
  }
  const mask = randomBytes(4);
  mask.copy(frame, headLen);
  for (let i = 0; i < len; i++) frame[headLen + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}
