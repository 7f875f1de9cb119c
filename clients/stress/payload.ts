/**
 * The text of every message the stress tool sends: `~ROOM:SEQ:SENT_US`, optionally padded with
 * `|xxx...` to a chosen size. ROOM is the room's index in the server's room list, SEQ a number
 * unique in the run (it orders sends against joins, see LoadEngine), SENT_US the send time in
 * microseconds on this process's monotonic clock. Digits and `~:|x` only: nothing to escape in
 * JSON, so a receiver can read it straight out of the raw line without a JSON parser.
 */
export const PAYLOAD_MARKER = "~";
/** What precedes the payload in a JSON event line: the `c` field opening, then the marker. */
export const PAYLOAD_FIELD = '"c":"~';

export function encodePayload(room: number, seq: number, sentMicros: number, size = 0): string {
  const text = `~${room}:${seq}:${sentMicros}`;
  return text.length + 1 >= size ? text : text + "|" + "x".repeat(size - text.length - 1);
}

/** Fields of the last payload read by parsePayload (module scratch: no allocation per read). */
export const parsed = { room: 0, seq: 0, sentMicros: 0 };

/**
 * Reads a payload starting at `at` (the first character after the marker) into `parsed`.
 * Returns false if the text there is not a payload of ours.
 */
export function parsePayload(s: string, at: number): boolean {
  let i = at;
  let n = 0;
  let c = s.charCodeAt(i);
  if (c < 48 || c > 57) return false;
  while (c >= 48 && c <= 57) {
    n = n * 10 + (c - 48);
    c = s.charCodeAt(++i);
  }
  if (c !== 58) return false;
  parsed.room = n;
  n = 0;
  c = s.charCodeAt(++i);
  while (c >= 48 && c <= 57) {
    n = n * 10 + (c - 48);
    c = s.charCodeAt(++i);
  }
  if (c !== 58) return false;
  parsed.seq = n;
  n = 0;
  c = s.charCodeAt(++i);
  const digitsFrom = i;
  while (c >= 48 && c <= 57) {
    n = n * 10 + (c - 48);
    c = s.charCodeAt(++i);
  }
  if (i === digitsFrom) return false;
  parsed.sentMicros = n;
  return true;
}
