import type { Framer } from "../protocol/index.js";
import { decodeUtf8Strict, ErrorCode, FrameError } from "../protocol/index.js";

/**
 * The pull-based `Framer` for a message-oriented transport (WebSocket): each push() is already one
 * whole message, so this is only a queue that the session drains at its own rate. Its size is
 * bounded by the transport: reading is paused while the session holds back, so at most what was
 * already parsed from one socket read waits here.
 *
 * Payloads are decoded (UTF-8) when pulled, not when pushed, so a rate-limited session does not
 * pay for decoding input it has not reached yet.
 */
export class MessageFramer implements Framer {
  /** NOTHING_QUEUED while empty: an idle connection carries no array of its own */
  private queue: Array<Uint8Array | FrameError> = NOTHING_QUEUED;
  private head = 0;
  private bytes = 0;

  /** @param maxMessageBytes a longer message is a fatal FRAME_TOO_LARGE, as an overlong line is */
  constructor(private readonly maxMessageBytes: number = Number.MAX_SAFE_INTEGER) {}

  get buffered(): number {
    return this.bytes;
  }

  /** Queues one whole message. */
  push(message: Uint8Array): void {
    if (message.length > this.maxMessageBytes) {
      this.pushError(
        new FrameError(
          "FRAME_TOO_LARGE",
          `message of ${message.length} bytes exceeds the maximum of ${this.maxMessageBytes}`,
          true,
        ),
      );
      return;
    }
    this.add(message);
    this.bytes += message.length;
  }

  /** Queues a transport-level error in order with the messages (e.g. a binary frame). */
  pushError(error: FrameError): void {
    this.add(error);
  }

  private add(item: Uint8Array | FrameError): void {
    if (this.queue === NOTHING_QUEUED) this.queue = [];
    this.queue.push(item);
  }

  next(): string | FrameError | undefined {
    if (this.head >= this.queue.length) return undefined;
    const item = this.queue[this.head]!;
    this.queue[this.head] = EMPTY;
    this.head++;
    if (this.head === this.queue.length) {
      this.queue = NOTHING_QUEUED;
      this.head = 0;
    }
    if (item instanceof FrameError) return item;
    this.bytes -= item.length;
    try {
      return decodeUtf8Strict(item);
    } catch {
      return new FrameError(ErrorCode.BAD_ENCODING, "message is not valid UTF-8", false);
    }
  }

  /** Drops everything queued (the connection is closing). */
  clear(): void {
    this.queue = NOTHING_QUEUED;
    this.head = 0;
    this.bytes = 0;
  }
}

const EMPTY = new Uint8Array(0);
/** The queue of a framer that holds nothing: shared, never written to. */
const NOTHING_QUEUED: Array<Uint8Array | FrameError> = [];
