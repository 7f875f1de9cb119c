/** Stable codes of errors the client library raises itself (server codes travel as is). */
export const ClientErrorCode = {
  /** the client was closed (close(), or the server said not to reconnect) */
  CLOSED: "CLOSED",
  /** the operation needs a live connection */
  NOT_CONNECTED: "NOT_CONNECTED",
  /** send() to a room the client has not joined */
  NOT_IN_ROOM: "NOT_IN_ROOM",
  /** the server's room list has no such room */
  ROOM_NOT_FOUND: "ROOM_NOT_FOUND",
  /** the outbox holds its maximum of unconfirmed messages */
  OUTBOX_FULL: "OUTBOX_FULL",
  MESSAGE_EMPTY: "MESSAGE_EMPTY",
  /** the server speaks the original protocol only, without this extension */
  UNSUPPORTED: "UNSUPPORTED",
  /** an address the client cannot parse */
  BAD_ADDRESS: "BAD_ADDRESS",
  /**
   * The link dropped after the message was written but before its echo, and the server does not
   * deduplicate (an original server): resending could show it twice, so it is reported instead.
   */
  UNCONFIRMED: "UNCONFIRMED",
  /** the room was left while the message waited in the outbox */
  LEFT_ROOM: "LEFT_ROOM",
  /** connected, but no login_successful arrived in time (not a chat server?) */
  LOGIN_TIMEOUT: "LOGIN_TIMEOUT",
  /** no reply to a heartbeat ping in time: the link is presumed dead */
  HEARTBEAT_TIMEOUT: "HEARTBEAT_TIMEOUT",
  /** no answer to a request (history) in time */
  TIMEOUT: "TIMEOUT",
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

export class ClientError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ClientError";
  }
}

/** A request the server refused with an `error` event: `code` is the server's (ErrorCode). */
export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "RequestError";
  }
}
