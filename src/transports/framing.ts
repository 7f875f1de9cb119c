import type { EncodedEvent, Framer } from "../protocol/index.js";
import { LengthPrefixedFramer, LineFramer } from "../protocol/index.js";

/** How a byte-stream transport cuts input and output into messages. */
export interface Framing {
  readonly kind: "tcp" | "tcp-lp";
  createFramer(maxBytes: number): Framer;
  /** the bytes of one event as written on the wire (cached on the event) */
  encode(event: EncodedEvent): string | Uint8Array;
  /** joins a turn's queued outputs into one write */
  join(parts: Array<string | Uint8Array>): string | Uint8Array;
}

/** JSON lines ended by CRLF: the original rust-chat-server wire format. */
export const lineFraming: Framing = {
  kind: "tcp",
  createFramer: (max) => new LineFramer(max),
  encode: (event) => event.line,
  join: (parts) => (parts.length === 1 ? parts[0]! : (parts as string[]).join("")),
};

/** 4-byte big-endian length, then UTF-8 JSON. */
export const lengthPrefixedFraming: Framing = {
  kind: "tcp-lp",
  createFramer: (max) => new LengthPrefixedFramer(max),
  encode: (event) => event.lengthPrefixed,
  join: (parts) => (parts.length === 1 ? parts[0]! : Buffer.concat(parts as Uint8Array[])),
};
