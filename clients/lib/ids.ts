const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";

/**
 * A random id of `length` characters from a 64-symbol alphabet (6 bits each), from the Web Crypto
 * random source (present in browsers and in Node 20 as globalThis.crypto). 22 characters = 132 bits.
 */
export function randomId(length = 22): string {
  const bytes = new Uint8Array(length);
  globalThis.crypto.getRandomValues(bytes);
  let out = "";
  for (const b of bytes) out += ALPHABET[b & 63];
  return out;
}
