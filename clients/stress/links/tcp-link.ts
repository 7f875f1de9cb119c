import { connect, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import { scanEvent } from "./event-scan.js";
import type { Link, LinkOptions, LinkSink, RoomRef } from "./link.js";

/** A line longer than this without a newline is a protocol failure, not something to buffer. */
const MAX_PARTIAL_LINE = 1024 * 1024;

/**
 * The original protocol over TCP: one JSON object per line. Everything queued in one tick of the
 * load engine leaves in a single socket write; input is decoded as latin1 (a byte copy) and split
 * on `\n` in place, each line classified by scanEvent without JSON parsing. With `tls`, the same
 * over TLS (the handshake is part of connecting; what is sent before it completes waits for it).
 */
export class TcpLink implements Link {
  private readonly socket: Socket;
  private out = "";
  private rest = "";
  private failure: string | undefined;
  private loggedIn = false;

  constructor(
    host: string,
    port: number,
    private readonly sink: LinkSink,
    private readonly options: LinkOptions,
    tls?: { ca?: Buffer },
  ) {
    this.socket = tls
      ? connectTls({ host, port, ...(tls.ca !== undefined && { ca: tls.ca }) })
      : connect({ host, port, noDelay: true });
    if (tls) this.socket.setNoDelay(true);
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("error", (err: NodeJS.ErrnoException) => {
      this.failure ??= err.code ?? err.message;
    });
    this.socket.on("close", () => {
      if (!this.loggedIn) this.failure ??= "closed before login_successful";
      sink.onClose(this.failure);
    });
  }

  private onData(chunk: Buffer): void {
    const now = performance.now();
    const s =
      this.rest.length === 0 ? chunk.toString("latin1") : this.rest + chunk.toString("latin1");
    let from = 0;
    for (;;) {
      const nl = s.indexOf("\n", from);
      if (nl < 0) break;
      if (!this.loggedIn) this.loggedIn = true;
      scanEvent(s, from, nl, now, this.sink, this.options.wantRooms);
      from = nl + 1;
    }
    this.rest = from === 0 ? s : from < s.length ? s.slice(from) : "";
    if (this.rest.length > MAX_PARTIAL_LINE) {
      this.failure = `line longer than ${MAX_PARTIAL_LINE} bytes`;
      this.socket.destroy();
    }
  }

  join(room: RoomRef): void {
    this.out += `{"_ct":"join_room","r":${JSON.stringify(room.name)}}\r\n`;
    this.flush();
  }

  send(room: RoomRef, payload: string): void {
    this.out += room.sendPrefix + payload + '"}\r\n';
  }

  hello(token?: string): void {
    this.out +=
      token === undefined
        ? '{"_ct":"hello","v":1}\r\n'
        : `{"_ct":"hello","v":1,"tok":${JSON.stringify(token)}}\r\n`;
    this.flush();
  }

  flush(): void {
    if (this.out.length === 0 || this.socket.destroyed) return;
    this.socket.write(this.out);
    this.out = "";
  }

  get backlogBytes(): number {
    return this.socket.writableLength + this.out.length;
  }

  close(): void {
    this.socket.destroy();
  }
}
