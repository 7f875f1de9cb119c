/**
 * Stable error codes. Request errors travel in an `error` event and leave the connection open;
 * disconnect codes travel in a `disconnect` event right before the server closes the connection.
 * Codes never change meaning; new ones may be added.
 */
export const ErrorCode = {
  /** the line or frame is not valid JSON */
  BAD_JSON: "BAD_JSON",
  /** the bytes are not valid UTF-8 */
  BAD_ENCODING: "BAD_ENCODING",
  /** valid JSON but not a command object, or a field is missing or of the wrong type */
  BAD_COMMAND: "BAD_COMMAND",
  /** `_ct` names no command this server knows */
  UNKNOWN_COMMAND: "UNKNOWN_COMMAND",
  ROOM_NOT_FOUND: "ROOM_NOT_FOUND",
  ALREADY_IN_ROOM: "ALREADY_IN_ROOM",
  NOT_IN_ROOM: "NOT_IN_ROOM",
  TOO_MANY_ROOMS: "TOO_MANY_ROOMS",
  MESSAGE_TOO_LONG: "MESSAGE_TOO_LONG",
  MESSAGE_EMPTY: "MESSAGE_EMPTY",
  NAME_TAKEN: "NAME_TAKEN",
  NAME_INVALID: "NAME_INVALID",
  /** a length-prefixed frame announced an impossible length (0 or above the limit) */
  BAD_LENGTH: "BAD_LENGTH",
  /** a history or resume offset that is not a whole number >= 0, or beyond the room's latest */
  BAD_OFFSET: "BAD_OFFSET",
  /** a history page size or join backlog out of range (1 to the server's historyPageMax) */
  BAD_LIMIT: "BAD_LIMIT",
  /**
   * the message store failed: a `send_message` answered with it was not stored and not delivered
   * to anyone (send it again later); a history request could not be read
   */
  STORE_UNAVAILABLE: "STORE_UNAVAILABLE",
  /** a cluster service (Redis) did not answer: nothing changed; try again shortly */
  CLUSTER_UNAVAILABLE: "CLUSTER_UNAVAILABLE",
  /**
   * no token where the server requires one, or the token given was refused (expired, malformed,
   * wrongly signed, bad claims): a `disconnect` UNAUTHORIZED follows and the connection closes
   */
  UNAUTHORIZED: "UNAUTHORIZED",
  /** the token's claims do not allow this (a room it may not read or write, a name it fixes) */
  FORBIDDEN: "FORBIDDEN",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const DisconnectCode = {
  /** the client sent quit */
  QUIT: "QUIT",
  /** a line or frame exceeded the maximum size */
  FRAME_TOO_LARGE: "FRAME_TOO_LARGE",
  /** the outbound queue exceeded its byte bound: the client reads too slowly */
  SLOW_CONSUMER: "SLOW_CONSUMER",
  /** the client kept sending above its rate for longer than the hard cap */
  FLOODING: "FLOODING",
  /** no first command in time after connecting, or in no room and silent past the idle timeout */
  IDLE_TIMEOUT: "IDLE_TIMEOUT",
  /** a line or frame was started and not finished in time (a stalled or trickling sender) */
  FRAME_TIMEOUT: "FRAME_TIMEOUT",
  /** the server is shutting down */
  SERVER_SHUTDOWN: "SERVER_SHUTDOWN",
  /** the connection limit (global or per IP) is reached */
  SERVER_FULL: "SERVER_FULL",
  /**
   * the connection's token was refused or is missing where required (reconnect: false), or it
   * expired (reconnect: true: connect again with a fresh token)
   */
  UNAUTHORIZED: "UNAUTHORIZED",
  /** the stream is corrupt and cannot be resynchronised (e.g. a bad length prefix) */
  PROTOCOL_ERROR: "PROTOCOL_ERROR",
  /**
   * the server is draining (being taken out of service): reconnect after the event's `retry_ms`,
   * to another server when you know one
   */
  SERVER_DRAINING: "SERVER_DRAINING",
  /** an operator ended the session (admin API) */
  KICKED: "KICKED",
} as const;
export type DisconnectCode = (typeof DisconnectCode)[keyof typeof DisconnectCode];

/** Whether a client should reconnect after a disconnect with this code. */
export function shouldReconnect(code: DisconnectCode): boolean {
  switch (code) {
    case "SLOW_CONSUMER":
    case "IDLE_TIMEOUT":
    case "FRAME_TIMEOUT":
    case "SERVER_SHUTDOWN":
    case "SERVER_FULL":
    case "SERVER_DRAINING":
      return true;
    case "QUIT":
    case "FRAME_TOO_LARGE":
    case "FLOODING":
    case "UNAUTHORIZED":
    case "PROTOCOL_ERROR":
    case "KICKED":
      return false;
  }
}
