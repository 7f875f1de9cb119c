import { connect, type Socket } from "node:net";
import { connect as connectTls, type ConnectionOptions as TlsOptions } from "node:tls";
import WebSocket from "ws";
import type { Command, Event } from "../../../src/protocol/index.js";
import {
  decodeEvent,
  encodeLengthPrefixed,
  LengthPrefixedFramer,
} from "../../../src/protocol/index.js";

const WAIT_MS = 3_000;

/**
 * A test client over one real socket: records every event it receives and lets a test wait for
 * the next one matching a predicate (each event is handed out once).
 */
export abstract class EventClient {
  readonly events: Event[] = [];
  private readonly taken = new Set<number>();
  private waiters: Array<() => void> = [];
  /** resolves when the connection has closed */
  readonly closed: Promise<void>;
  protected markClosed!: () => void;
  isClosed = false;

  constructor() {
    this.closed = new Promise((resolve) => {
      this.markClosed = () => {
        this.isClosed = true;
        resolve();
        this.wake();
      };
    });
  }

  protected receive(text: string): void {
    const ev = decodeEvent(text);
    if (!ev) throw new Error(`not an event: ${text}`);
    this.events.push(ev);
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  abstract send(cmd: Command | string): void;
  abstract close(): void;

  /** The next not yet taken event satisfying `pred` (of type `type`), waiting up to `ms`. */
  async waitFor<T extends Event["_et"]>(
    type: T,
    pred: (ev: Extract<Event, { _et: T }>) => boolean = () => true,
    ms = WAIT_MS,
  ): Promise<Extract<Event, { _et: T }>> {
    const deadline = Date.now() + ms;
    for (;;) {
      for (let i = 0; i < this.events.length; i++) {
        const ev = this.events[i]!;
        if (this.taken.has(i) || ev._et !== type) continue;
        const typed = ev as Extract<Event, { _et: T }>;
        if (pred(typed)) {
          this.taken.add(i);
          return typed;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.isClosed) {
        throw new Error(
          `no ${type} event${this.isClosed ? " (connection closed)" : ""} within ${ms} ms; got ` +
            JSON.stringify(this.events.map((e) => e._et)),
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Whether any event matching `pred` was received (taken or not). */
  saw(pred: (ev: Event) => boolean): boolean {
    return this.events.some(pred);
  }

  /** Sends hello and waits for login + welcome; returns the user id. */
  async login(name?: string): Promise<string> {
    const login = await this.waitFor("login_successful");
    this.send({ _ct: "hello", v: 1, ...(name !== undefined && { n: name }) });
    await this.waitFor("welcome");
    return login.u;
  }

  async join(room: string): Promise<void> {
    this.send({ _ct: "join_room", r: room });
    await this.waitFor("user_joined_room", (e) => e.r === room);
  }
}

abstract class TcpClient extends EventClient {
  protected constructor(readonly socket: Socket) {
    super();
    socket.on("close", () => this.markClosed());
    socket.on("error", () => {});
  }
  close(): void {
    this.socket.end();
  }
}

/** A TCP socket to 127.0.0.1:`port`, over TLS when `tls` is given, once it is usable. */
async function openSocket(port: number, tls?: TlsOptions): Promise<Socket> {
  const s =
    tls === undefined
      ? connect({ host: "127.0.0.1", port })
      : connectTls({ host: "127.0.0.1", port, servername: "localhost", ...tls });
  const ready = tls === undefined ? "connect" : "secureConnect";
  await new Promise<void>((resolve, reject) => s.once(ready, resolve).once("error", reject));
  return s;
}

/** The original protocol: JSON lines on TCP. */
export class LineClient extends TcpClient {
  private rest = "";
  /** `tls`: over TLS, with these client options (e.g. the test CA as `ca`) */
  static async open(port: number, tls?: TlsOptions): Promise<LineClient> {
    return new LineClient(await openSocket(port, tls));
  }
  private constructor(socket: Socket) {
    super(socket);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      const parts = (this.rest + chunk).split("\n");
      this.rest = parts.pop()!;
      for (const p of parts) if (p.trim() !== "") this.receive(p.replace(/\r$/, ""));
    });
  }
  send(cmd: Command | string): void {
    this.socket.write((typeof cmd === "string" ? cmd : JSON.stringify(cmd)) + "\r\n");
  }
}

/** 4-byte big-endian length, then UTF-8 JSON, on TCP. */
export class LpClient extends TcpClient {
  private readonly framer = new LengthPrefixedFramer(16 * 1024 * 1024);
  static async open(port: number, tls?: TlsOptions): Promise<LpClient> {
    return new LpClient(await openSocket(port, tls));
  }
  private constructor(socket: Socket) {
    super(socket);
    socket.on("data", (chunk: Buffer) => {
      this.framer.push(chunk);
      for (let f = this.framer.next(); f !== undefined; f = this.framer.next()) {
        if (typeof f !== "string") throw new Error(`bad frame from server: ${f.message}`);
        this.receive(f);
      }
    });
  }
  send(cmd: Command | string): void {
    this.socket.write(encodeLengthPrefixed(typeof cmd === "string" ? cmd : JSON.stringify(cmd)));
  }
  /** Writes raw bytes (a bad prefix, a split frame). */
  raw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }
}

/** One JSON command or event per WebSocket text frame. */
export class WsClient extends EventClient {
  closeCode: number | undefined;
  closeReason = "";
  static async open(
    port: number,
    options: WebSocket.ClientOptions = {},
    path = "/ws",
  ): Promise<WsClient> {
    return WsClient.openUrl(`ws://127.0.0.1:${port}${path}`, options);
  }
  /** e.g. wss://localhost:PORT/ws with the test CA in `options.ca` */
  static async openUrl(url: string, options: WebSocket.ClientOptions = {}): Promise<WsClient> {
    const ws = new WebSocket(url, options);
    // Listening before `open`: the first event may come in the same packet as the handshake.
    const client = new WsClient(ws);
    await new Promise<void>((resolve, reject) => ws.once("open", resolve).once("error", reject));
    return client;
  }
  private constructor(readonly ws: WebSocket) {
    super();
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) throw new Error("binary frame from server");
      this.receive(data.toString("utf8"));
    });
    ws.on("close", (code: number, reason: Buffer) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.markClosed();
    });
    ws.on("error", () => {});
  }
  send(cmd: Command | string): void {
    this.ws.send(typeof cmd === "string" ? cmd : JSON.stringify(cmd));
  }
  close(): void {
    this.ws.close();
  }
}
