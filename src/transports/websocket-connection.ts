import type { Duplex } from "node:stream";
import type { RawData, WebSocket } from "ws";
import type { DisconnectCode, EncodedEvent } from "../protocol/index.js";
import {
  EncodedEvent as Encoded,
  ErrorCode,
  FrameError,
  shouldReconnect,
} from "../protocol/index.js";
import type { CloseReason, Connection, Session } from "../core/index.js";
import { PEER_CLOSED } from "../core/index.js";
import { flushQueue, type Flushable } from "./flush-queue.js";
import { MessageFramer } from "./message-framer.js";
import { closeReason, closeStatus, refusalStatus } from "./ws-close-codes.js";
import { takeBatch } from "./write-batch.js";
import { joinBuffers } from "./framing.js";

const TEXT = { binary: false } as const;

/** The pending frames of a connection that has none: shared, never written to (see send). */
const NOTHING_PENDING: Uint8Array[] = [];

/** Time a refused connection gets to read its close frame before it is cut, in ms. */
const REFUSE_CUT_MS = 1_000;

/**
 * The UTF-8 payload of each event, for connections with permessage-deflate (ws compresses it per
 * connection): made once for all of them. Entries go with their event.
 */
const utf8 = new WeakMap<EncodedEvent, Buffer>();
function bytesOf(event: EncodedEvent): Buffer {
  let b = utf8.get(event);
  if (b === undefined) {
    b = Buffer.from(event.json, "utf8");
    utf8.set(event, b);
  }
  return b;
}

/** The connection a ws socket belongs to, kept on the socket for the shared listeners below. */
const OWNER = Symbol("parley.connection");
type Owned = WebSocket & { [OWNER]?: WebSocketConnection };

function onWsMessage(this: Owned, data: RawData, isBinary: boolean): void {
  this[OWNER]?.onMessage(data, isBinary);
}
function onWsPong(this: Owned): void {
  this[OWNER]?.onPong();
}
function onWsError(this: Owned, err: Error & { code?: string }): void {
  this[OWNER]?.onError(err);
}
function onWsClose(this: Owned, code: number): void {
  this[OWNER]?.onClose(code);
}

/**
 * A WebSocket as a core Connection: one JSON command or event per text frame.
 *
 * Output queued with send() leaves once per event-loop turn (the shared flush queue): every event
 * is its own frame, and the frames of one turn go to the kernel in one write. Without
 * permessage-deflate (the default) the frames are the event's own (EncodedEvent.webSocketFrame:
 * framed once per event, the same bytes for every member) and are written straight to the
 * upgraded socket, as ws's Sender would write them: ws queues nothing of its own without
 * compression, so frames never interleave, and its bufferedAmount (the socket's writable length)
 * stays right. With deflate each payload goes through ws.send, which compresses per connection.
 *
 * As on TCP, one batch (at most WRITE_BATCH_BYTES) is with the socket at a time and its completion
 * reports the reader's progress to the session (flow control). Input frames wait in a
 * MessageFramer that the session drains at its rate; while the session holds back, the socket is
 * paused and TCP pushes back on the peer.
 */
export class WebSocketConnection implements Connection, Flushable {
  readonly framer: MessageFramer;
  session: Session | undefined;
  /** false once a ping is sent, true again when its pong arrives */
  private answeredPing = true;
  /** no permessage-deflate: pending holds whole frames, written to the socket as they are */
  private readonly rawFrames: boolean;
  /** NOTHING_PENDING while empty: an idle connection carries no array of its own */
  private pending: Uint8Array[] = NOTHING_PENDING;
  private pendingBytes = 0;
  private queued = false;
  /** a batch is with the socket and its last frame's callback has not run */
  private writing = false;
  private closing = false;
  private closed = false;
  private cutTimer: NodeJS.Timeout | undefined;
  /** why the server cut the socket itself (heartbeat), reported as the session's end */
  private cutNote: string | undefined;

  constructor(
    private readonly ws: WebSocket,
    /** the upgraded socket, corked around a turn's writes */
    private readonly socket: Duplex,
    readonly remoteAddress: string,
    /** largest message handled; a larger one gets an error event, then a close */
    maxMessageBytes: number,
    /** told once the socket is closed (the transport stops tracking it) */
    private readonly untrack: (conn: WebSocketConnection) => void,
  ) {
    this.framer = new MessageFramer(maxMessageBytes);
    this.rawFrames = ws.extensions === "";
    // Paused until attach(): frames that arrive while middleware runs stay in the kernel.
    ws.pause();
    // Shared listeners that find this connection on the socket: four closures per connection
    // were a tenth of an idle connection's heap.
    (ws as Owned)[OWNER] = this;
    ws.on("message", onWsMessage);
    ws.on("pong", onWsPong);
    ws.on("error", onWsError);
    ws.on("close", onWsClose);
  }

  /** ws: the peer's pong arrived. */
  onPong(): void {
    this.answeredPing = true;
  }

  /** ws: the socket is closed (by either side). */
  onClose(code: number): void {
    this.closed = true;
    if (this.cutTimer) clearTimeout(this.cutTimer);
    this.pending = NOTHING_PENDING;
    this.pendingBytes = 0;
    this.framer.clear();
    this.session?.onTransportClosed(this.cutNote ?? `connection closed by peer (${code})`);
    this.untrack(this);
  }

  /** a getter, not a field: one slot less in every connection */
  get transport(): "ws" {
    return "ws";
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Hands the connection to its session and starts reading. */
  attach(session: Session): void {
    this.session = session;
    if (this.closed) {
      session.onTransportClosed();
      return;
    }
    session.onReadable();
    this.ws.resume();
  }

  /** ws: a whole message arrived. */
  onMessage(data: RawData, isBinary: boolean): void {
    if (this.closing) return; // read only to complete the close handshake
    if (isBinary) {
      this.framer.pushError(
        new FrameError(
          ErrorCode.BAD_ENCODING,
          "binary frames are not accepted: send each command as a JSON text frame",
          true,
        ),
      );
    } else {
      // binaryType is "nodebuffer": a message is one Buffer
      this.framer.push(data as Buffer);
    }
    this.session?.onData((data as Buffer).length);
  }

  /**
   * ws reports a broken frame here and has already started closing with the matching status
   * (1009 for a message above maxPayload, 1007 for bad UTF-8): the session is ended through the
   * framer so the core records the reason and members see the user leave.
   */
  onError(err: Error & { code?: string }): void {
    if (this.closing || this.closed) return;
    if (err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") {
      this.framer.pushError(new FrameError("FRAME_TOO_LARGE", err.message, true));
    } else if (err.code === "WS_ERR_INVALID_UTF8") {
      this.framer.pushError(new FrameError(ErrorCode.BAD_ENCODING, err.message, true));
    } else {
      this.cutNote = `websocket error: ${err.message}`;
      return; // the close event follows
    }
    this.session?.onReadable();
  }

  send(event: EncodedEvent): void {
    if (this.closed || this.closing) return;
    const bytes = this.rawFrames ? event.webSocketFrame : bytesOf(event);
    if (this.pending === NOTHING_PENDING) this.pending = [];
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (!this.queued && !this.writing) {
      this.queued = true;
      flushQueue.add(this);
    }
  }

  flush(): void {
    this.queued = false;
    if (this.writing || this.pending.length === 0) return;
    if (this.closed || this.ws.readyState !== this.ws.OPEN) {
      this.pending = NOTHING_PENDING;
      this.pendingBytes = 0;
      return;
    }
    const frames = takeBatch(this.pending, this.pendingBytes);
    let bytes = this.pendingBytes;
    if (frames === this.pending) {
      this.pending = NOTHING_PENDING;
      this.pendingBytes = 0;
    } else {
      bytes = 0;
      for (const f of frames) bytes += f.length;
      this.pendingBytes -= bytes;
    }
    this.writing = true;
    if (this.rawFrames) {
      this.socket.write(joinBuffers(frames, bytes), this.written);
      return;
    }
    const last = frames.length - 1;
    this.socket.cork();
    for (let i = 0; i < last; i++) this.ws.send(frames[i]!, TEXT);
    this.ws.send(frames[last]!, TEXT, this.written);
    this.socket.uncork();
  }

  /** The last frame of a batch went to the kernel (or failed): write the next batch. */
  private readonly written = (err?: Error | null): void => {
    this.writing = false;
    if (err || this.closed) return;
    if (this.pending.length > 0 && !this.closing) this.flush();
    this.session?.onOutboundProgress();
  };

  /** Writes everything still queued, whatever its size (the connection is closing). */
  private flushAll(): void {
    const frames = this.pending;
    const bytes = this.pendingBytes;
    this.pending = NOTHING_PENDING;
    this.pendingBytes = 0;
    if (frames.length === 0 || this.closed || this.ws.readyState !== this.ws.OPEN) return;
    if (this.rawFrames) {
      this.socket.write(joinBuffers(frames, bytes));
      return;
    }
    this.socket.cork();
    for (const f of frames) this.ws.send(f, TEXT);
    this.socket.uncork();
  }

  get bufferedBytes(): number {
    return this.pendingBytes + this.ws.bufferedAmount;
  }

  pauseReading(): void {
    this.ws.pause();
  }

  resumeReading(): void {
    if (!this.closing) this.ws.resume();
  }

  /**
   * Called by the transport's heartbeat every interval: cuts a peer that did not answer the
   * previous ping, else pings it. Returns false when the peer was cut.
   */
  heartbeat(intervalMs: number): boolean {
    if (this.closed) return true;
    if (!this.answeredPing) {
      this.cutNote = `no pong within ${intervalMs} ms`;
      this.ws.terminate();
      return false;
    }
    this.answeredPing = false;
    this.ws.ping();
    return true;
  }

  /** Cuts the socket at once (drain deadline passed). */
  terminate(): void {
    if (!this.closed) this.ws.terminate();
  }

  /**
   * Tells the peer why in a `disconnect` event (every WebSocket client speaks the extensions),
   * then closes with 1013 (try again later) or 1008 (policy: UNAUTHORIZED).
   */
  refuse(reason: CloseReason): void {
    if (this.closing || this.closed) return;
    this.closing = true;
    if (reason.code !== PEER_CLOSED && this.ws.readyState === this.ws.OPEN) {
      const ev = new Encoded({
        _et: "disconnect",
        code: reason.code,
        message: reason.message,
        reconnect: shouldReconnect(reason.code as DisconnectCode),
      });
      this.ws.send(bytesOf(ev), TEXT);
    }
    this.ws.close(refusalStatus(reason.code), closeReason(`${reason.code}: ${reason.message}`));
    this.ws.resume();
    this.cutTimer = setTimeout(() => this.ws.terminate(), REFUSE_CUT_MS).unref();
  }

  /** Flushes, then sends a close frame (4000+ status, the disconnect code as reason). */
  close(reason: CloseReason, flushDeadlineMs: number): void {
    if (this.closing || this.closed) return;
    this.flushAll();
    this.closing = true;
    this.framer.clear();
    this.ws.close(closeStatus(reason.code), closeReason(reason.code));
    this.ws.resume();
    this.cutTimer = setTimeout(() => this.ws.terminate(), flushDeadlineMs).unref();
  }
}
