/**
 * One strict UTF-8 decoder for every framer: a TextDecoder per connection cost ~100 bytes of heap
 * for each one, idle ones included. Sharing is safe because decode() without `{ stream: true }`
 * starts from a clean state on every call (nothing of one input carries into the next), and an
 * input that is not valid UTF-8 throws (fatal) instead of yielding U+FFFD. A leading BOM is kept
 * as text (ignoreBOM), as a per-connection decoder did.
 */
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** `bytes` as text; throws a TypeError when they are not valid UTF-8. */
export function decodeUtf8Strict(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
