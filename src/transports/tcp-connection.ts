import type { Socket } from "node:net";
import type { EncodedEvent, Framer } from "../protocol/index.js";
import { EncodedEvent as Encoded, shouldReconnect } from "../protocol/index.js";
import type { CloseReason, Connection, Session } from "../core/index.js";
import { PEER_CLOSED } from "../core/index.js";
import { flushQueue, type Flushable } from "./flush-queue.js";
import { joinBuffers, type Framing } from "./framing.js";
import { takeBatch } from "./write-batch.js";

/** The connection a socket belongs to, kept on the socket for the shared listeners below. */
const OWNER = Symbol("parley.connection");
type Owned = Socket & { [OWNER]?: TcpConnection };

function onSocketData(this: Owned, chunk: Buffer): void {
  this[OWNER]?.onData(chunk);
}
function onSocketClose(this: Owned): void {
  this[OWNER]?.onClose();
}
/** A socket error: the socket is destroyed, and its close event ends the session. */
function destroySocket(this: Socket): void {
  this.destroy();
}

/**
 * A TCP socket as a core Connection. Output queued with send() is joined and written once per
 * event-loop turn; TCP_NODELAY is set so that write is not held back by Nagle's algorithm.
 *
 * One write is with the socket at a time, of at most WRITE_BATCH_BYTES: while the kernel is
 * full, events wait here as references to their shared encodings (a reader that fell behind in a
 * big room costs pointers, not copies), and each write's completion tells the session how far
 * the peer has read (onOutboundProgress), which is what flow control runs on.
 */
export class TcpConnection implements Connection, Flushable {
  readonly framer: Framer;
  readonly remoteAddress: string;
  session: Session | undefined;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** registered on the flush queue for this turn */
  private queued = false;
  /** a write is with the socket and its callback has not run */
  private writing = false;
  private closing = false;
  private closed = false;
  private cutTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly framing: Framing,
    maxFrameBytes: number,
    /** TCP keepalive idle time, ms (the kernel then probes 10 times, 1 s apart); 0 disables */
    keepAliveMs: number,
  ) {
    this.framer = framing.createFramer(maxFrameBytes);
    this.remoteAddress = socket.remoteAddress ?? "unknown";
    socket.setNoDelay(true);
    if (keepAliveMs > 0) socket.setKeepAlive(true, keepAliveMs);
    // Paused until attach(): input that arrives while middleware runs stays in the kernel.
    socket.pause();
    // Shared listeners that find this connection on the socket (no closures per connection).
    (socket as Owned)[OWNER] = this;
    socket.on("data", onSocketData);
    socket.on("error", destroySocket);
    socket.on("close", onSocketClose);
  }

  /** net: bytes arrived. */
  onData(chunk: Buffer): void {
    if (this.closing) return; // discarded: read only to see the peer's FIN
    this.framer.push(chunk);
    this.session?.onData(chunk.length);
  }

  /** net: the socket is closed (by either side, or failed). */
  onClose(): void {
    this.closed = true;
    if (this.cutTimer) clearTimeout(this.cutTimer);
    this.pending = [];
    this.pendingBytes = 0;
    this.session?.onTransportClosed();
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
    if (!this.queued && !this.writing) {
      this.queued = true;
      flushQueue.add(this);
    }
  }

  flush(): void {
    this.queued = false;
    if (this.writing || this.pending.length === 0 || this.closed) return;
    const parts = takeBatch(this.pending, this.pendingBytes);
    this.writing = true;
    if (parts === this.pending) {
      const out = joinBuffers(parts, this.pendingBytes);
      parts.length = 0; // the array is reused: joinBuffers took what it needed
      this.pendingBytes = 0;
      this.socket.write(out, this.written);
    } else {
      let bytes = 0;
      for (const p of parts) bytes += p.length;
      this.pendingBytes -= bytes;
      this.socket.write(joinBuffers(parts, bytes), this.written);
    }
  }

  /** The socket handed the last batch to the kernel (or failed): write the next one. */
  private readonly written = (err?: Error | null): void => {
    this.writing = false;
    if (err || this.closed) return;
    if (this.pending.length > 0 && !this.closing) this.flush();
    this.session?.onOutboundProgress();
  };

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
    if (this.pending.length > 0) this.socket.write(joinBuffers(this.pending, this.pendingBytes));
    this.pending = [];
    this.pendingBytes = 0;
    this.closing = true;
    this.socket.end();
    this.socket.resume();
    this.cutTimer = setTimeout(() => this.socket.destroy(), flushDeadlineMs).unref();
  }
}
