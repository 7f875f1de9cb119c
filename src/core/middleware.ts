import { DisconnectCode } from "../protocol/index.js";
import { ConnectionRefused } from "./errors.js";
import type { Identity, Logger, TransportKind } from "./ports.js";

/** What middleware sees of a connection before and after its session. */
export interface ConnectionContext {
  /** connection number, unique in this process */
  readonly id: number;
  readonly transport: TransportKind;
  readonly remoteAddress: string;
  /**
   * HTTP upgrade headers for WebSocket connections; empty for raw TCP. For `onOpen`: emptied once
   * the session starts (kept, they were about 550 bytes of every idle WebSocket connection, and
   * an `authorization` header would stay in memory for the connection's life).
   */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * the upgrade request's path and query for WebSocket connections (`/ws?token=...`); for
   * `onOpen` too: undefined once the session starts
   */
  url?: string;
  readonly openedAt: number;
  /** set by an auth middleware */
  authenticated: boolean;
  /** who the auth middleware says this is, if anyone (a token's subject) */
  principal?: string;
  /** what a verified token says (see SessionAuth): its rooms limit what the session may do */
  identity?: Identity;
  /** set once the session exists */
  sessionId?: string;
  userId?: string;
}

export interface CloseInfo {
  code: string;
  message: string;
}

/**
 * A connection middleware. `onOpen` runs in pipeline order before the session starts; throwing
 * ConnectionRefused refuses the connection (later middleware do not run). `onClose` runs in
 * reverse order for every middleware whose onOpen completed.
 */
export interface ConnectionMiddleware {
  readonly name: string;
  onOpen?(ctx: ConnectionContext): void | Promise<void>;
  onClose?(ctx: ConnectionContext, info: CloseInfo): void;
}

/** Runs a list of middleware around each connection's life. */
export class MiddlewarePipeline {
  constructor(private readonly layers: readonly ConnectionMiddleware[]) {}

  /** Runs every onOpen; returns how many completed (for close), or throws ConnectionRefused. */
  async open(ctx: ConnectionContext): Promise<void> {
    for (let i = 0; i < this.layers.length; i++) {
      try {
        await this.layers[i]!.onOpen?.(ctx);
      } catch (err) {
        this.closeFrom(i - 1, ctx, refusalInfo(err));
        throw err instanceof ConnectionRefused
          ? err
          : new ConnectionRefused(
              DisconnectCode.UNAUTHORIZED,
              `middleware ${this.layers[i]!.name} failed`,
            );
      }
    }
  }

  close(ctx: ConnectionContext, info: CloseInfo): void {
    this.closeFrom(this.layers.length - 1, ctx, info);
  }

  private closeFrom(last: number, ctx: ConnectionContext, info: CloseInfo): void {
    for (let i = last; i >= 0; i--) this.layers[i]!.onClose?.(ctx, info);
  }
}

function refusalInfo(err: unknown): CloseInfo {
  return err instanceof ConnectionRefused
    ? { code: err.code, message: err.message }
    : { code: DisconnectCode.UNAUTHORIZED, message: String(err) };
}

/** Logs one line when a connection opens and one when it closes, with the reason. */
export function loggingMiddleware(logger: Logger): ConnectionMiddleware {
  return {
    name: "logging",
    onOpen(ctx) {
      logger.info(
        { conn: ctx.id, transport: ctx.transport, remote: ctx.remoteAddress },
        "connection open",
      );
    },
    onClose(ctx, info) {
      logger.info(
        {
          conn: ctx.id,
          transport: ctx.transport,
          remote: ctx.remoteAddress,
          session: ctx.sessionId,
          user: ctx.userId,
          code: info.code,
          reason: info.message,
          durationMs: Date.now() - ctx.openedAt,
        },
        "connection closed",
      );
    },
  };
}

/**
 * Decides whether a connection may proceed. Return a principal (a user name) to accept and mark
 * it authenticated, `true` to accept anonymously, `false` to refuse.
 */
export type AuthHook = (ctx: ConnectionContext) => boolean | string | Promise<boolean | string>;

/** Runs an auth hook; a refusal closes the connection with UNAUTHORIZED. */
export function authMiddleware(hook: AuthHook): ConnectionMiddleware {
  return {
    name: "auth",
    async onOpen(ctx) {
      const verdict = await hook(ctx);
      if (verdict === false) {
        throw new ConnectionRefused(DisconnectCode.UNAUTHORIZED, "authentication failed", "auth");
      }
      if (typeof verdict === "string") {
        ctx.authenticated = true;
        ctx.principal = verdict;
      }
    },
  };
}
