// URL-safe alphabet of nanoid, which the original uses for session (21 chars) and user (5 chars) ids.
const ALPHABET = "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict";

/** A random id of `size` characters from nanoid's 64-symbol alphabet. */
export function randomId(size: number): string {
  const bytes = new Uint8Array(size);
  globalThis.crypto.getRandomValues(bytes);
  let id = "";
  for (let i = 0; i < size; i++) id += ALPHABET[bytes[i]! & 63];
  return id;
}

export const SESSION_ID_LENGTH = 21;
export const USER_ID_LENGTH = 5;
