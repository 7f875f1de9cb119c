import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger, Metrics, SessionSummary } from "../core/index.js";
import { ChatError } from "../core/index.js";
import type { RoomsReloadOutcome } from "../rooms-reload.js";

/** What the admin API can do; the App provides it (on this node only, in a cluster). */
export interface AdminActions {
  sessions(): SessionSummary[];
  /** false when there is no such session */
  kick(sessionId: string, message: string): boolean;
  /** how many sessions it was queued on; throws ChatError ROOM_NOT_FOUND */
  notice(room: string, text: string): number;
  /** begins a drain (idempotent); whether one had begun already */
  drain(): { already: boolean; windowMs: number; timeoutMs: number };
  reload(): Promise<RoomsReloadOutcome>;
}

export interface AdminApiOptions {
  /** the bearer token every request must carry */
  token: string;
  actions: AdminActions;
  metrics: Metrics;
  logger: Logger;
  /** the longest notice text, characters (the server's --max-message-chars) */
  maxTextChars: number;
  /** largest request body, bytes (default 16 KiB) */
  maxBodyBytes?: number;
}

/** Stable error codes of the admin API, in `{"error":{"code","message"}}`. */
export const AdminErrorCode = {
  /** no `Authorization: Bearer` header, or not the token (401) */
  UNAUTHORIZED: "UNAUTHORIZED",
  /** no such admin route (404) */
  NOT_FOUND: "NOT_FOUND",
  /** the route exists with another method (405; `allow` says which) */
  METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
  /** the body is above the limit (413) */
  BODY_TOO_LARGE: "BODY_TOO_LARGE",
  /** the body is not JSON (400) */
  BAD_JSON: "BAD_JSON",
  /** JSON, but a field is missing or has the wrong type or size (400) */
  BAD_REQUEST: "BAD_REQUEST",
  SESSION_NOT_FOUND: "SESSION_NOT_FOUND",
  ROOM_NOT_FOUND: "ROOM_NOT_FOUND",
  /** the rooms file(s) cannot be used: the old rooms are kept (422) */
  ROOMS_INVALID: "ROOMS_INVALID",
  /** the store could not open the new rooms: the old rooms are kept (503) */
  RELOAD_FAILED: "RELOAD_FAILED",
} as const;
export type AdminErrorCode = (typeof AdminErrorCode)[keyof typeof AdminErrorCode];

const DEFAULT_MAX_BODY = 16 * 1024;

class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: AdminErrorCode,
    message: string,
  ) {
    super(message);
  }
}

interface Route {
  /** label for metrics and logs */
  action: string;
  method: "GET" | "POST";
  run(params: string[], body: () => Promise<Record<string, unknown>>): Promise<Reply> | Reply;
}

interface Reply {
  status: number;
  body: unknown;
}

/**
 * The admin HTTP API under /admin/, on the server's HTTP port, enabled by a token. Every request
 * must carry `Authorization: Bearer TOKEN` (compared in constant time); anything else is 401
 * before any route is looked at. Answers are JSON; errors are `{"error":{"code","message"}}`
 * with a stable code. Request bodies are bounded (16 KiB). Every answer is counted
 * (`parley_admin_requests_total{action,status}`) and every action logged.
 */
export class AdminApi {
  private readonly tokenDigest: Buffer;
  private readonly maxBody: number;
  private readonly routes: Array<{ pattern: RegExp; route: Route }>;

  constructor(private readonly options: AdminApiOptions) {
    this.tokenDigest = digest(options.token);
    this.maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
    const a = options.actions;
    this.routes = [
      {
        pattern: /^\/admin\/sessions$/,
        route: {
          action: "sessions",
          method: "GET",
          run: () => ({
            status: 200,
            body: {
              sessions: a.sessions().map((s) => ({
                id: s.id,
                user: s.user,
                name: s.name,
                transport: s.transport,
                remote: s.remote,
                rooms: s.rooms,
                connected_since: new Date(s.connectedAt).toISOString(),
                queue_bytes: s.queuedBytes,
                extended: s.extended,
              })),
            },
          }),
        },
      },
      {
        pattern: /^\/admin\/sessions\/([^/]+)\/kick$/,
        route: {
          action: "kick",
          method: "POST",
          run: async ([id], body) => {
            const b = await body();
            const message = optionalText(b, "message", 200) ?? "disconnected by an operator";
            if (!a.kick(id!, message)) {
              throw new AdminError(404, "SESSION_NOT_FOUND", `no session "${id}" on this node`);
            }
            this.options.logger.info({ session: id, message }, "admin: session kicked");
            return { status: 200, body: { kicked: id } };
          },
        },
      },
      {
        pattern: /^\/admin\/rooms\/([^/]+)\/notice$/,
        route: {
          action: "notice",
          method: "POST",
          run: async ([room], body) => {
            const text = optionalText(await body(), "text", this.options.maxTextChars);
            if (text === undefined || text === "") {
              throw new AdminError(400, "BAD_REQUEST", `"text" must be a non-empty string`);
            }
            let delivered: number;
            try {
              delivered = a.notice(room!, text);
            } catch (err) {
              if (err instanceof ChatError)
                throw new AdminError(404, "ROOM_NOT_FOUND", err.message);
              throw err;
            }
            this.options.logger.info({ room, delivered }, "admin: notice sent");
            return { status: 200, body: { room, delivered } };
          },
        },
      },
      {
        pattern: /^\/admin\/drain$/,
        route: {
          action: "drain",
          method: "POST",
          run: () => {
            const d = a.drain();
            return {
              status: 202,
              body: {
                draining: true,
                already: d.already,
                window_ms: d.windowMs,
                timeout_ms: d.timeoutMs,
              },
            };
          },
        },
      },
      {
        pattern: /^\/admin\/reload$/,
        route: {
          action: "reload",
          method: "POST",
          run: async () => {
            const r = await a.reload();
            if (r.ok) return { status: 200, body: r };
            throw new AdminError(r.code === "ROOMS_INVALID" ? 422 : 503, r.code, r.message);
          },
        },
      },
    ];
  }

  /** Answers a request whose path is under /admin. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const match = this.match(path);
    const action = match?.route.action ?? "other";
    let reply: Reply;
    try {
      reply = await this.answer(req, path, match);
    } catch (err) {
      if (!(err instanceof AdminError)) throw err;
      reply = { status: err.status, body: { error: { code: err.code, message: err.message } } };
      if (err.status === 401) res.setHeader("www-authenticate", 'Bearer realm="parley-admin"');
      if (err.status === 405 && match) res.setHeader("allow", match.route.method);
      // a body not read to its end would be taken for the next request on this connection
      if (err.status === 413 || err.status === 401) res.setHeader("connection", "close");
    }
    this.options.metrics.adminRequest(action, reply.status);
    const text = JSON.stringify(reply.body) + "\n";
    res.statusCode = reply.status;
    res.setHeader("content-type", "application/json; charset=utf-8");
    res.setHeader("content-length", Buffer.byteLength(text));
    res.setHeader("cache-control", "no-store");
    res.setHeader("x-content-type-options", "nosniff");
    res.end(text);
  }

  private match(path: string): { route: Route; params: string[] } | undefined {
    for (const { pattern, route } of this.routes) {
      const m = pattern.exec(path);
      if (m) return { route, params: m.slice(1) };
    }
    return undefined;
  }

  private async answer(
    req: IncomingMessage,
    path: string,
    match: { route: Route; params: string[] } | undefined,
  ): Promise<Reply> {
    if (!this.authorized(req.headers.authorization)) {
      throw new AdminError(401, "UNAUTHORIZED", "missing or wrong bearer token");
    }
    if (match === undefined) throw new AdminError(404, "NOT_FOUND", `no admin route ${path}`);
    if (req.method !== match.route.method) {
      throw new AdminError(405, "METHOD_NOT_ALLOWED", `use ${match.route.method}`);
    }
    let params: string[];
    try {
      params = match.params.map((p) => decodeURIComponent(p));
    } catch {
      throw new AdminError(400, "BAD_REQUEST", "the path is not valid percent-encoding");
    }
    return match.route.run(params, () => this.body(req));
  }

  private authorized(header: string | undefined): boolean {
    const m = /^Bearer +(\S+) *$/i.exec(header ?? "");
    // Both sides hashed: equal lengths for timingSafeEqual, and no length leak.
    return m !== null && timingSafeEqual(digest(m[1]!), this.tokenDigest);
  }

  /** The JSON object in the body; an empty body is `{}`. */
  private async body(req: IncomingMessage): Promise<Record<string, unknown>> {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > this.maxBody) throw this.tooLarge();
    const text = (await this.read(req)).toString("utf8");
    if (text.trim() === "") return {};
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new AdminError(400, "BAD_JSON", `the body is not JSON: ${(err as Error).message}`);
    }
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      throw new AdminError(400, "BAD_REQUEST", "the body must be a JSON object");
    }
    return data as Record<string, unknown>;
  }

  /**
   * The body, up to the limit. Past it, reading stops (the 413 goes out with `connection: close`)
   * instead of destroying the request, so that the client gets the answer.
   */
  private read(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (): void => {
        req.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
      };
      const onData = (chunk: Buffer): void => {
        size += chunk.length;
        if (size <= this.maxBody) return void chunks.push(chunk);
        done();
        req.pause();
        reject(this.tooLarge());
      };
      const onEnd = (): void => {
        done();
        resolve(Buffer.concat(chunks));
      };
      const onError = (err: Error): void => {
        done();
        reject(err);
      };
      const onClose = (): void => onError(new Error("the request was aborted"));
      req.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
    });
  }

  private tooLarge(): AdminError {
    return new AdminError(413, "BODY_TOO_LARGE", `a request body is at most ${this.maxBody} bytes`);
  }
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}

/** `body[field]` when it is a string of at most `max` characters; undefined when absent. */
function optionalText(
  body: Record<string, unknown>,
  field: string,
  max: number,
): string | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== "string")
    throw new AdminError(400, "BAD_REQUEST", `"${field}" must be a string`);
  if ([...v].length > max) {
    throw new AdminError(400, "BAD_REQUEST", `"${field}" is at most ${max} characters`);
  }
  return v;
}
