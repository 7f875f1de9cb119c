import type {
  ErrorEvent,
  HistoryCommand,
  HistoryEvent,
  UserMessageEvent,
} from "../../src/protocol/index.js";
import type { HistoryPage, HistoryQuery } from "./client-types.js";
import type { Clock } from "./clock.js";
import { ClientError, ClientErrorCode, RequestError } from "./errors.js";

/** Default page size of history(), in messages (the server's default too). */
export const DEFAULT_HISTORY_PAGE = 50;

interface Request {
  readonly room: string;
  readonly cmd: HistoryCommand;
  readonly resolve: (page: HistoryPage) => void;
  readonly reject: (err: Error) => void;
  timer: unknown;
  /** written, awaiting its answer */
  written: boolean;
  /** given up (timed out) while written: its answer, if it comes, is skipped */
  abandoned: boolean;
}

/**
 * The client's history() requests, matched with the server's answers. A `history` event or an
 * `error` (cmd "history") names only the room, so each room has one request written at a time,
 * the rest queued behind it in call order: then the answer about a room is always the written
 * request's. A request that times out while written keeps its room's turn until its late answer
 * arrives (or the link ends), so that answer is never taken for the next request's.
 */
export class HistoryRequests {
  private readonly queues = new Map<string, Request[]>();

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly write: (cmd: HistoryCommand) => void,
  ) {}

  /**
   * Queues a request, written at once if its room is free. The page size (default 50) is capped
   * at `max` (the server's historyPageMax, once known); throws RangeError if not a whole number >= 1.
   */
  request(room: string, query: HistoryQuery, max: number | undefined): Promise<HistoryPage> {
    const limit = query.limit ?? DEFAULT_HISTORY_PAGE;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError("a history page holds a whole number >= 1 of messages");
    }
    const cmd: HistoryCommand = {
      _ct: "history",
      r: room,
      l: max === undefined ? limit : Math.min(limit, max),
      ...(query.before !== undefined && { before: query.before }),
    };
    return new Promise((resolve, reject) => {
      const req: Request = {
        room,
        cmd,
        resolve,
        reject,
        timer: undefined,
        written: false,
        abandoned: false,
      };
      req.timer = this.clock.setTimeout(() => this.timeOut(req), this.timeoutMs);
      const queue = this.queues.get(room) ?? [];
      queue.push(req);
      this.queues.set(room, queue);
      this.pump(room);
    });
  }

  /** A `history` event; false if no request of ours was waiting for it. */
  onHistory(ev: HistoryEvent): boolean {
    const req = this.answered(ev.r);
    if (req === undefined) return false;
    if (!req.abandoned) {
      const messages = Array.isArray(ev.ms) ? ev.ms.filter(isMessage) : [];
      req.resolve({
        room: ev.r,
        epoch: String(ev.e),
        messages,
        first: Number(ev.first),
        head: Number(ev.head),
        more: ev.more === true,
      });
    }
    this.pump(ev.r);
    return true;
  }

  /** An `error` about a history request; false if not ours. */
  onError(ev: ErrorEvent): boolean {
    if (ev.cmd !== "history" || typeof ev.r !== "string") return false;
    const req = this.answered(ev.r);
    if (req === undefined) return false;
    if (!req.abandoned) req.reject(new RequestError(String(ev.code), String(ev.message)));
    this.pump(ev.r);
    return true;
  }

  /** The link is gone: every request fails (their answers cannot come any more). */
  failAll(code: ClientErrorCode, message: string): void {
    const queues = [...this.queues.values()];
    this.queues.clear();
    for (const queue of queues) {
      for (const req of queue) {
        this.clock.clearTimeout(req.timer);
        if (!req.abandoned) req.reject(new ClientError(code, message));
      }
    }
  }

  /** Takes the room's written request off its queue: the answer that just came is its. */
  private answered(room: string): Request | undefined {
    const queue = this.queues.get(room);
    if (queue === undefined || !queue[0]?.written) return undefined;
    const req = queue.shift()!;
    if (queue.length === 0) this.queues.delete(room);
    this.clock.clearTimeout(req.timer);
    return req;
  }

  private pump(room: string): void {
    const next = this.queues.get(room)?.[0];
    if (next === undefined || next.written) return;
    next.written = true;
    this.write(next.cmd);
  }

  private timeOut(req: Request): void {
    const err = new ClientError(
      ClientErrorCode.TIMEOUT,
      `no answer to the history request for "${req.room}" in ${this.timeoutMs} ms`,
    );
    if (req.written) {
      req.abandoned = true;
      req.reject(err);
      return;
    }
    const queue = this.queues.get(req.room);
    const i = queue?.indexOf(req) ?? -1;
    if (queue !== undefined && i >= 0) queue.splice(i, 1);
    if (queue?.length === 0) this.queues.delete(req.room);
    req.reject(err);
  }
}

function isMessage(m: unknown): m is UserMessageEvent {
  if (typeof m !== "object" || m === null) return false;
  const x = m as UserMessageEvent;
  return typeof x.r === "string" && typeof x.u === "string" && typeof x.c === "string";
}
