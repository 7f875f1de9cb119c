import type { DisconnectCode, ErrorCode } from "../protocol/index.js";

/** A request error: reported to the client as an `error` event; the connection stays open. */
export class ChatError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly room?: string,
  ) {
    super(message);
    this.name = "ChatError";
  }
}

/** Thrown by middleware to refuse a connection before its session starts. */
export class ConnectionRefused extends Error {
  constructor(
    readonly code: DisconnectCode,
    message: string,
    /** a stable label for metrics and logs (`per_ip_limit`, `auth`, ...); defaults to the code */
    readonly reason: string = code.toLowerCase(),
  ) {
    super(message);
    this.name = "ConnectionRefused";
  }
}
