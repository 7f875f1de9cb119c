/**
 * Node's Buffer when there is one (the server), looked up at run time because this layer is also
 * built for the browser (the web client), which has only TextEncoder.
 */
interface NodeBuffer {
  byteLength(text: string, encoding: "utf8"): number;
  allocUnsafe(size: number): Uint8Array & {
    write(text: string, offset: number, encoding: "utf8"): number;
  };
}
const nodeBuffer = (globalThis as { Buffer?: NodeBuffer }).Buffer;
const encoder = new TextEncoder();

/**
 * `text` as UTF-8 after `head` bytes left for a header and before `tail` bytes left for a trailer,
 * for the caller to write (they are not zeroed). Made once per event and shared by every
 * recipient. In Node a pooled Buffer and one native UTF-8 pass (no per-event ArrayBuffer, and a
 * Buffer is what sockets take without wrapping); elsewhere one TextEncoder pass and a copy.
 */
export function utf8Framed(text: string, head: number, tail: number): Uint8Array {
  if (nodeBuffer !== undefined) {
    const len = nodeBuffer.byteLength(text, "utf8");
    const out = nodeBuffer.allocUnsafe(head + len + tail);
    out.write(text, head, "utf8");
    return out;
  }
  const body = encoder.encode(text);
  const out = new Uint8Array(head + body.length + tail);
  out.set(body, head);
  return out;
}

/** The UTF-8 size of `text` in bytes (lone surrogates count as U+FFFD, 3 bytes, as encoders write them). */
export function utf8Length(text: string): number {
  return nodeBuffer !== undefined ? nodeBuffer.byteLength(text, "utf8") : countUtf8(text);
}

/** utf8Length without Buffer (the browser build): one pass over the UTF-16 code units. */
export function countUtf8(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Writes `value` (below 2^32) as 4 big-endian bytes at `at`. */
export function writeUint32BE(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}
