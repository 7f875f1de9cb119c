import { DisconnectCode } from "../protocol/index.js";

/**
 * WebSocket close status codes Parley uses. The close reason always carries the disconnect code
 * text too (`FRAME_TOO_LARGE`), so a client can read either. 4000-4999 is the range RFC 6455
 * leaves to applications; the numbers never change meaning.
 */
export const WS_CLOSE: Readonly<Record<DisconnectCode, number>> = Object.freeze({
  QUIT: 1000, // normal closure: the client asked
  FRAME_TOO_LARGE: 4001,
  SLOW_CONSUMER: 4002,
  FLOODING: 4003,
  IDLE_TIMEOUT: 4004,
  SERVER_SHUTDOWN: 4005,
  SERVER_FULL: 4006,
  UNAUTHORIZED: 4007,
  PROTOCOL_ERROR: 4008,
  FRAME_TIMEOUT: 4009,
  SERVER_DRAINING: 4010,
  KICKED: 4011,
});

/** Close status for a connection refused before its session: 1013 try again later, 1008 policy. */
export function refusalStatus(code: string): number {
  return code === DisconnectCode.UNAUTHORIZED ? 1008 : 1013;
}

/** Close status for a session ended with `code` (an unknown code closes normally). */
export function closeStatus(code: string): number {
  return (WS_CLOSE as Record<string, number | undefined>)[code] ?? 1000;
}

/** A close reason is at most 123 bytes (RFC 6455 5.5.1); cut at a character boundary. */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= 123) return text;
  let out = text.slice(0, 123);
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}
