import type { EncodedEvent, Framer } from "../protocol/index.js";
import { LengthPrefixedFramer, LineFramer } from "../protocol/index.js";

/** How a byte-stream transport cuts input and output into messages. */
export interface Framing {
  readonly kind: "tcp" | "tcp-lp";
  createFramer(maxBytes: number): Framer;
  /** the bytes of one event as written on the wire: cached on the event, shared by every recipient */
  encode(event: EncodedEvent): Uint8Array;
}

/** JSON lines ended by CRLF: the original rust-chat-server wire format. */
export const lineFraming: Framing = {
  kind: "tcp",
  createFramer: (max) => new LineFramer(max),
  encode: (event) => event.line,
};

/** 4-byte big-endian length, then UTF-8 JSON. */
export const lengthPrefixedFraming: Framing = {
  kind: "tcp-lp",
  createFramer: (max) => new LengthPrefixedFramer(max),
  encode: (event) => event.lengthPrefixed,
};

/**
 * A turn's queued outputs as one write: the shared bytes themselves when there is one part, else
 * one copy into a new buffer (`bytes` is their total length). Against a corked series of writes
 * (writev) of ~150-byte events the CPU cost was the same within noise (2-4 parts: writev ~5%
 * cheaper; 16 parts: the copy ~6% cheaper), and one write has one completion callback to track.
 */
export function joinBuffers(parts: readonly Uint8Array[], bytes: number): Uint8Array {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes);
}
