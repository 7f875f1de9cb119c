import type { Command } from "../protocol/index.js";
import { DisconnectCode, EncodedEvent, ErrorCode } from "../protocol/index.js";
import { AuthError, type AuthFailureReason, ConnectionRefused } from "./errors.js";
import type { ConnectionContext, ConnectionMiddleware } from "./middleware.js";
import type { Identity, Logger, Metrics, TokenVerifier } from "./ports.js";
import { RoomAccess } from "./room-access.js";
import type { EndCode, Session } from "./session.js";

/**
 * optional: a connection without a token is anonymous (as with auth off), one with a token must
 * present a valid one; required: nothing but `hello` with a valid token (or a WebSocket upgrade
 * carrying one) is accepted.
 */
export type AuthMode = "optional" | "required";

export interface SessionAuthOptions {
  mode: AuthMode;
  verifier: TokenVerifier;
}

/** What SessionAuth needs from the chat server. */
export interface SessionAuthHost {
  readonly metrics: Metrics;
  readonly logger: Logger;
  end(session: Session, code: EndCode, message: string, notify: boolean): void;
}

/** The original protocol's commands: an original client sending one cannot read extension events. */
const ORIGINAL = new Set(["join_room", "leave_room", "send_message", "quit"]);

/**
 * Token authentication of chat connections (see docs/protocol.md, "Authentication"): a WebSocket
 * upgrade's token is checked by the connection middleware before the session starts; a TCP
 * client's comes in `hello.tok`. An accepted token's Identity is kept on the connection context
 * (principal = its subject), limits the session's rooms (RoomAccess), and ends the session when it
 * expires: one timer per authenticated session, none per message. A refused token ends the
 * connection with UNAUTHORIZED, never retried by clients (reconnect: false); an expired session
 * is told to reconnect (with a fresh token).
 */
export class SessionAuth {
  constructor(
    private readonly options: SessionAuthOptions,
    private readonly host: SessionAuthHost,
  ) {}

  get mode(): AuthMode {
    return this.options.mode;
  }

  /** Checks a WebSocket upgrade's token; none given: the session may still send one in hello. */
  middleware(): ConnectionMiddleware {
    return {
      name: "token-auth",
      onOpen: async (ctx) => {
        const token = upgradeToken(ctx);
        if (token === undefined) return;
        try {
          this.accepted(ctx, await this.options.verifier.verify(token));
        } catch (err) {
          const failure = this.failed(ctx, err);
          throw new ConnectionRefused(DisconnectCode.UNAUTHORIZED, failure, "auth");
        }
      },
    };
  }

  /** A session just started: the limits and expiry of a token its upgrade carried. */
  started(session: Session): void {
    const identity = session.ctx.identity;
    if (identity !== undefined) this.apply(session, identity);
  }

  /**
   * Whether `cmd` may run. In required mode, before a token was accepted only `hello` with one
   * (and `quit`) may: anything else ends the session with UNAUTHORIZED.
   */
  admits(session: Session, cmd: Command): boolean {
    if (this.options.mode === "optional" || session.authenticated) return true;
    if (cmd._ct === "quit" || (cmd._ct === "hello" && cmd.tok !== undefined)) return true;
    this.host.metrics.authFailed("missing");
    this.log(session.ctx, "missing", `${cmd._ct} before a token`);
    // A Parley client (length-prefixed, WebSocket, or one that sent an extension command) is told
    // why; an original-protocol client on the line port could not decode it and is just closed.
    if (session.conn.transport !== "tcp" || !ORIGINAL.has(cmd._ct)) session.extended = true;
    this.refuse(session, cmd._ct, "a token is required: send hello with tok first");
    return false;
  }

  /**
   * `hello.tok`: resolves with the Identity when it is the session's first (its name is then
   * the caller's to take), undefined when it renews the current one (same subject: new rooms
   * and expiry) or was refused (the session is then ended).
   */
  async hello(session: Session, token: string): Promise<Identity | undefined> {
    const ctx = session.ctx;
    let identity: Identity;
    try {
      identity = await this.options.verifier.verify(token);
      const current = ctx.identity;
      if (current !== undefined && current.subject !== identity.subject) {
        throw new AuthError("claims", "the token's subject differs from this session's");
      }
    } catch (err) {
      const failure = this.failed(ctx, err);
      if (!session.closed) this.refuse(session, "hello", failure);
      return undefined;
    }
    if (session.closed) return undefined;
    const first = ctx.identity === undefined;
    this.accepted(ctx, identity);
    this.apply(session, identity);
    return first ? identity : undefined;
  }

  private accepted(ctx: ConnectionContext, identity: Identity): void {
    ctx.identity = identity;
    ctx.principal = identity.subject;
    ctx.authenticated = true;
    this.host.metrics.authSucceeded(ctx.transport);
    this.host.logger.debug(
      { conn: ctx.id, transport: ctx.transport, subject: identity.subject },
      "token accepted",
    );
  }

  private apply(session: Session, identity: Identity): void {
    session.access = new RoomAccess(identity);
    if (identity.expiresAt !== undefined) {
      session.expireAt(identity.expiresAt, () => this.expired(session));
    }
  }

  /** Counts and logs a refusal (never the token itself); returns the message for the client. */
  private failed(ctx: ConnectionContext, err: unknown): string {
    let reason: AuthFailureReason = "malformed";
    let message = "token not accepted";
    if (err instanceof AuthError) {
      reason = err.reason;
      message = err.message;
    } else {
      this.host.logger.warn({ conn: ctx.id, err: String(err) }, "token verifier failed");
    }
    this.host.metrics.authFailed(reason);
    this.log(ctx, reason, message);
    return `${reason}: ${message}`;
  }

  private log(ctx: ConnectionContext, reason: string, message: string): void {
    this.host.logger.info(
      { conn: ctx.id, transport: ctx.transport, remote: ctx.remoteAddress, reason, message },
      "token refused",
    );
  }

  private refuse(session: Session, cmd: string, message: string): void {
    session.sendError(ErrorCode.UNAUTHORIZED, message, { cmd });
    this.host.end(session, DisconnectCode.UNAUTHORIZED, message, true);
  }

  private expired(session: Session): void {
    if (session.closed) return;
    const message = "token expired";
    this.host.logger.info(
      { conn: session.ctx.id, session: session.id, subject: session.ctx.principal },
      "token expired: session ended",
    );
    // Unlike a refused token, an expired one is worth a reconnect with a fresh token. Every
    // client of the length-prefixed and WebSocket transports is a Parley client: it is told.
    if (session.conn.transport !== "tcp") session.extended = true;
    session.deliverFinal(
      new EncodedEvent({
        _et: "disconnect",
        code: DisconnectCode.UNAUTHORIZED,
        message,
        reconnect: true,
      }),
    );
    this.host.end(session, DisconnectCode.UNAUTHORIZED, message, false);
  }
}

/**
 * A WebSocket upgrade's token: `Authorization: Bearer T`, else the `token` query parameter
 * (browsers cannot set headers on a WebSocket).
 */
function upgradeToken(ctx: ConnectionContext): string | undefined {
  const auth = ctx.headers.authorization;
  if (typeof auth === "string") {
    const m = /^Bearer +(\S+) *$/i.exec(auth);
    if (m !== null) return m[1];
  }
  if (ctx.url === undefined) return undefined;
  const q = ctx.url.indexOf("?");
  if (q < 0) return undefined;
  const token = new URLSearchParams(ctx.url.slice(q + 1)).get("token");
  return token === null || token === "" ? undefined : token;
}
