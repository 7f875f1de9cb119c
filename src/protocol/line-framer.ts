import { ByteBuffer } from "./byte-buffer.js";
import { ErrorCode } from "./error-codes.js";
import { decodeUtf8Strict } from "./strict-utf8.js";

/** Default maximum line length in bytes, terminator excluded: 64 KiB. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

/** A frame that could not be read. `fatal` means the stream cannot go on. */
export class FrameError {
  constructor(
    readonly code: ErrorCode | "FRAME_TOO_LARGE",
    readonly message: string,
    readonly fatal: boolean,
  ) {}
}

/** Pull-based framing: push bytes as they arrive, pull whole frames when ready to handle them. */
export interface Framer {
  push(chunk: Uint8Array): void;
  /** The next whole frame's text, a FrameError, or undefined when no whole frame is buffered. */
  next(): string | FrameError | undefined;
  /** Bytes buffered and not yet returned as frames. */
  readonly buffered: number;
}

const LF = 10;
const CR = 13;

/**
 * Splits a byte stream into lines ended by `\n` or `\r\n`. Survives fragmentation (a line split
 * over chunks) and coalescing (many lines in one chunk). Empty lines are skipped. A line longer
 * than `maxLineBytes` is a fatal FRAME_TOO_LARGE (the stream is not resynchronised: the caller
 * reports and closes). A line that is not valid UTF-8 is a non-fatal BAD_ENCODING.
 *
 * Pull-based so that a rate-limited reader leaves unread input in this buffer (and in the kernel)
 * instead of in an unbounded queue of decoded commands.
 */
export class LineFramer implements Framer {
  private readonly input = new ByteBuffer();
  /** where to resume the search for LF: bytes before it are known to hold none */
  private scanFrom = 0;

  constructor(private readonly maxLineBytes: number = DEFAULT_MAX_LINE_BYTES) {}

  get buffered(): number {
    return this.input.length;
  }

  push(chunk: Uint8Array): void {
    this.scanFrom = Math.max(0, this.scanFrom - this.input.push(chunk));
  }

  next(): string | FrameError | undefined {
    const input = this.input;
    for (;;) {
      const buf = input.bytes;
      const start = input.start;
      if (start >= buf.length) return undefined;
      const nl = buf.indexOf(LF, Math.max(this.scanFrom, start));
      if (nl === -1) {
        this.scanFrom = buf.length;
        // A trailing CR may be the first half of the CRLF ending a line of exactly the maximum.
        const pending = buf.length - start - (buf[buf.length - 1] === CR ? 1 : 0);
        if (pending > this.maxLineBytes) return this.tooLarge();
        return undefined;
      }
      let end = nl;
      if (end > start && buf[end - 1] === CR) end--;
      input.start = nl + 1;
      this.scanFrom = nl + 1;
      if (end - start > this.maxLineBytes) return this.tooLarge();
      if (end === start) continue;
      try {
        return decodeUtf8Strict(buf.subarray(start, end));
      } catch {
        return new FrameError(ErrorCode.BAD_ENCODING, "line is not valid UTF-8", false);
      }
    }
  }

  private tooLarge(): FrameError {
    this.input.clear();
    this.scanFrom = 0;
    return new FrameError("FRAME_TOO_LARGE", `line longer than ${this.maxLineBytes} bytes`, true);
  }
}
