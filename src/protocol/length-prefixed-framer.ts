import { ByteBuffer } from "./byte-buffer.js";
import { ErrorCode } from "./error-codes.js";
import { decodeUtf8Strict } from "./strict-utf8.js";
import { FrameError, type Framer } from "./line-framer.js";
import { utf8Framed, writeUint32BE } from "./utf8.js";

/** Default maximum frame payload in bytes: 64 KiB (as the line limit). */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;

/**
 * Splits a byte stream into frames of a 4-byte big-endian unsigned length followed by that many
 * bytes of UTF-8 JSON. A length of 0 or above `maxFrameBytes` is a fatal BAD_LENGTH (the stream
 * cannot be resynchronised); invalid UTF-8 in a payload is a non-fatal BAD_ENCODING.
 */
export class LengthPrefixedFramer implements Framer {
  private readonly input = new ByteBuffer();

  constructor(private readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {}

  get buffered(): number {
    return this.input.length;
  }

  push(chunk: Uint8Array): void {
    this.input.push(chunk);
  }

  next(): string | FrameError | undefined {
    const buf = this.input.bytes;
    const s = this.input.start;
    if (buf.length - s < 4) return undefined;
    const len = ((buf[s]! << 24) | (buf[s + 1]! << 16) | (buf[s + 2]! << 8) | buf[s + 3]!) >>> 0;
    if (len === 0 || len > this.maxFrameBytes) {
      this.input.clear();
      return len === 0
        ? new FrameError(ErrorCode.BAD_LENGTH, "frame length 0 is not allowed", true)
        : new FrameError(
            "FRAME_TOO_LARGE",
            `frame length ${len} exceeds the maximum of ${this.maxFrameBytes} bytes`,
            true,
          );
    }
    if (buf.length - s - 4 < len) return undefined;
    this.input.start = s + 4 + len;
    try {
      return decodeUtf8Strict(buf.subarray(s + 4, s + 4 + len));
    } catch {
      return new FrameError(ErrorCode.BAD_ENCODING, "frame is not valid UTF-8", false);
    }
  }
}

/** Encodes JSON text as one length-prefixed frame. */
export function encodeLengthPrefixed(json: string): Uint8Array {
  const out = utf8Framed(json, 4, 0);
  writeUint32BE(out, 0, out.length - 4);
  return out;
}
