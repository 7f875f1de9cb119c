/** One encoder for the process (TextEncoder is stateless): browser-safe, unlike Node's Buffer. */
const encoder = new TextEncoder();

/**
 * `text` as UTF-8 after `head` bytes left for a header and before `tail` bytes left for a trailer
 * (both zero-filled, for the caller to write): one native encode and one copy, made once per event.
 */
export function utf8Framed(text: string, head: number, tail: number): Uint8Array {
  const body = encoder.encode(text);
  const out = new Uint8Array(head + body.length + tail);
  out.set(body, head);
  return out;
}
