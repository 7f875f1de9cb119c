import { utf8Framed, writeUint32BE } from "./utf8.js";

/** Header bytes of a server (unmasked) frame whose payload is `len` bytes long. */
function headerBytes(len: number): number {
  return len < 126 ? 2 : len <= 0xffff ? 4 : 10;
}

/**
 * Encodes `text` as one unmasked, final WebSocket text frame (RFC 6455 section 5.2), as a server
 * sends it: FIN and opcode 1, no extension bits, then the payload length in 7 bits, 7+16 bits
 * (126: up to 65,535 bytes) or 7+64 bits (127: above), then the UTF-8 payload. Made once per
 * event: the same bytes go to every member.
 *
 * Only for connections without permessage-deflate (compressed frames differ per connection).
 */
export function encodeWebSocketTextFrame(text: string): Uint8Array {
  // The UTF-8 length is not known before encoding: reserve the header for the longest it can be
  // (3 bytes per UTF-16 unit), then drop what is not needed from the front.
  const head = headerBytes(text.length * 3);
  const buf = utf8Framed(text, head, 0);
  const len = buf.length - head;
  const used = headerBytes(len);
  const frame = buf.subarray(head - used);
  frame[0] = 0x81; // FIN | text
  if (used === 2) {
    frame[1] = len;
  } else if (used === 4) {
    frame[1] = 126;
    frame[2] = len >>> 8;
    frame[3] = len & 0xff;
  } else {
    frame[1] = 127;
    writeUint32BE(frame, 2, Math.floor(len / 2 ** 32));
    writeUint32BE(frame, 6, len >>> 0);
  }
  return frame;
}
