import type { Socket } from "node:net";
import type { EncodedEvent, Framer } from "../protocol/index.js";
import { EncodedEvent as Encoded, shouldReconnect } from "../protocol/index.js";
import type { CloseReason, Connection, Session } from "../core/index.js";
import { PEER_CLOSED } from "../core/index.js";
import { flushQueue, type Flushable } from "./flush-queue.js";
import type { Framing } from "./framing.js";

/**
 * A TCP socket as a core Connection. Output queued with send() is joined and written once per
 * event-loop turn; TCP_NODELAY is set so that write is not held back by Nagle's algorithm.
 */
export class TcpConnection implements Connection, Flushable {
  readonly framer: Framer;
  readonly remoteAddress: string;
  session: Session | undefined;
  private pending: Array<string | Uint8Array> = [];
  private pendingBytes = 0;
  private queued = false;
  private closing = false;
  private closed = false;
  private cutTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly framing: Framing,
    maxFrameBytes: number,
  ) {
    this.framer = framing.createFramer(maxFrameBytes);
    this.remoteAddress = socket.remoteAddress ?? "unknown";
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    // Paused until attach(): input that arrives while middleware runs stays in the kernel.
    socket.pause();
    socket.on("data", (chunk: Buffer) => {
      if (this.closing) return; // discarded: read only to see the peer's FIN
      this.framer.push(chunk);
      this.session?.onData(chunk.length);
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      this.closed = true;
      if (this.cutTimer) clearTimeout(this.cutTimer);
      this.pending = [];
      this.pendingBytes = 0;
      this.session?.onTransportClosed();
    });
  }

  get transport(): Framing["kind"] {
    return this.framing.kind;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Hands the connection to its session and starts reading (input before this waits in the kernel). */
  attach(session: Session): void {
    this.session = session;
    if (this.closed) {
      session.onTransportClosed();
      return;
    }
    session.onReadable();
    this.socket.resume();
  }

  send(event: EncodedEvent): void {
    if (this.closed || this.closing) return;
    const bytes = this.framing.encode(event);
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (!this.queued) {
      this.queued = true;
      flushQueue.add(this);
    }
  }

  flush(): void {
    this.queued = false;
    if (this.pending.length === 0 || this.closed) return;
    const data = this.framing.join(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    this.socket.write(data);
  }

  get bufferedBytes(): number {
    return this.pendingBytes + this.socket.writableLength;
  }

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    if (!this.closing) this.socket.resume();
  }

  refuse(reason: CloseReason): void {
    // The line transport is the original protocol's: an original client knows no event that could
    // carry the reason, so it only sees the close. Length-prefixed clients are all Parley clients.
    if (this.framing.kind === "tcp-lp" && reason.code !== PEER_CLOSED) {
      const ev = new Encoded({
        _et: "disconnect",
        code: reason.code,
        message: reason.message,
        reconnect: shouldReconnect(reason.code as Parameters<typeof shouldReconnect>[0]),
      });
      this.socket.end(this.framing.encode(ev));
    } else {
      this.socket.end();
    }
    this.closing = true;
    this.socket.resume();
    this.cutTimer = setTimeout(() => this.socket.destroy(), 1_000).unref();
  }

  close(_reason: CloseReason, flushDeadlineMs: number): void {
    if (this.closing || this.closed) return;
    this.flush();
    this.closing = true;
    this.socket.end();
    this.socket.resume();
    this.cutTimer = setTimeout(() => this.socket.destroy(), flushDeadlineMs).unref();
  }
}
