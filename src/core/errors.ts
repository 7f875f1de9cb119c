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

/** Why a token was refused: a stable label for metrics, logs and the client's message. */
export type AuthFailureReason =
  /** past its `exp` (beyond the clock tolerance) */
  | "expired"
  /** not a JWT, or not one this server can read */
  | "malformed"
  /** the signature does not verify, its algorithm is not allowed, or no key matches its `kid` */
  | "bad_signature"
  /** a claim is missing or wrong: no `sub`, another `iss` or `aud`, not yet valid, bad `rooms` */
  | "claims"
  /** no token where the server requires one */
  | "missing";

/** A token refused by a TokenVerifier (see ports.ts); the message says which check failed. */
export class AuthError extends Error {
  constructor(
    readonly reason: AuthFailureReason,
    message: string,
  ) {
    super(message);
    this.name = "AuthError";
  }
}
