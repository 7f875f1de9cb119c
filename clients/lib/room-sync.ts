import type {
  ErrorEvent,
  JoinRoomCommand,
  LeaveRoomCommand,
  ResumeStatus,
  UserJoinedRoomEvent,
  UserMessageEvent,
} from "../../src/protocol/index.js";
import { ErrorCode } from "../../src/protocol/index.js";
import { Backoff } from "./backoff.js";
import type { RoomJoined } from "./client-types.js";
import type { Clock } from "./clock.js";
import { RoomOffsets } from "./room-offsets.js";

/** Default backlog (`b`) of a fresh join on Parley servers, in messages. */
export const DEFAULT_HISTORY_ON_JOIN = 50;

/**
 * Delays between tries of a join the server undid because its store could not be read
 * (STORE_UNAVAILABLE): from 0.5 s doubling to 15 s, half of each delay jittered. Retried for as
 * long as the room is wanted and the link lasts.
 */
const JOIN_RETRY = { baseMs: 500, maxMs: 15_000, factor: 2 };

/**
 * Messages of a backlog held at most until its join is live. A backlog is at most the server's
 * historyPageMax (default 200), plus what the room gets during the replay; past this bound the
 * held messages are passed on at once.
 */
const HELD_MAX = 5_000;

export interface RoomSyncHost {
  readonly clock: Clock;
  /** [0, 1), for the retry jitter */
  readonly random: () => number;
  write(cmd: JoinRoomCommand | LeaveRoomCommand): void;
}

/** How a join was asked for. */
type JoinMode = "resume" | "backlog" | "plain";

/** One room's join on the current link. */
interface LinkRoom {
  live: boolean;
  mode: JoinMode;
  /** the backlog asked (mode backlog) */
  backlog: number;
  /**
   * mode backlog: its messages, held until the join is live (then the app gets them all, or,
   * should the join fail, none: the next join's backlog does not repeat any); undefined once
   * passed on
   */
  held: UserMessageEvent[] | undefined;
  /** messages passed to the app for this join before it went live, and the newest offset of them */
  replayed: number;
  seen: number;
  /** the room was live on an earlier link (and not left since): a rejoin after a reconnect */
  rejoin: boolean;
  /** reported instead of the server's status: a resume it refused (BAD_OFFSET) */
  status?: "reset";
}

/** What the client is to do after an `error` about one of its joins. */
export type JoinErrorOutcome =
  /** nothing: not about a join of ours */
  | "ignored"
  /** the join is asked again (now or later): keep the room's messages waiting */
  | "retrying"
  /** the server says we are in the room already: it is live */
  | "live"
  /** refused for good: the room is no longer wanted */
  | "refused";

/**
 * Keeps the client's rooms joined on the server, across reconnects, without losing or repeating
 * a message:
 *
 * - The rooms the user wants, in join order; each login joins them again.
 * - On a Parley server with history, a rejoin resumes (`o`, `e`) from the last offset the app has
 *   (RoomOffsets), so the server first replays exactly what was missed; a fresh join (the room's
 *   first, or one after leaving it) asks for a backlog (`b`) of recent messages instead.
 * - Every user_message with an offset at or below the newest the app got of its room is dropped,
 *   so the app sees each message once, in order. A backlog is held until its join is live, so
 *   a join that fails half way (the link drops, the store fails) passes on none of it. Within one link a room's epoch cannot change (it is
 *   fixed for a server process), so positions of rooms left are forgotten at the next login.
 * - A join the server undid (STORE_UNAVAILABLE) is tried again later; a resume it refused
 *   (BAD_OFFSET: the offset is beyond the room's latest, its history went back) becomes a plain
 *   join reported as `reset`; a backlog above its limit (BAD_LIMIT) is asked again within it.
 * - An original server gets plain joins only.
 */
export class RoomSync {
  readonly offsets = new RoomOffsets();
  /** rooms wanted, in join order, with the backlog a fresh join of each asks for */
  private readonly wanted = new Map<string, number>();
  /** joins written on the current link */
  private readonly link = new Map<string, LinkRoom>();
  /** rooms live on some link and not left since */
  private readonly everLive = new Set<string>();
  /** rooms left while they had a position: a join again asks for a backlog, not a resume */
  private readonly left = new Set<string>();
  private readonly retries = new Map<string, { timer: unknown; attempt: number }>();
  private readonly retryBackoff = new Backoff(JOIN_RETRY);
  private online = false;
  private extended = false;
  /** the server's largest backlog (welcome `limits.historyPageMax`), once known */
  maxBacklog: number | undefined;

  constructor(
    private readonly host: RoomSyncHost,
    private readonly defaultBacklog: number,
  ) {}

  /** Rooms wanted, in join order. */
  get rooms(): string[] {
    return [...this.wanted.keys()];
  }

  has(room: string): boolean {
    return this.wanted.has(room);
  }

  /**
   * Whether messages to `room` may be written on the current link. On a Parley server, once its
   * join is live: the replay has then shown which of the outbox's messages the server has, so
   * only the others are written again. On an original server, once the join is written (the
   * server handles one connection's commands in order).
   */
  canSend(room: string): boolean {
    const l = this.link.get(room);
    return l !== undefined && (l.live || !this.extended);
  }

  /** Wants a room; joins it now when online. False if it was wanted already. */
  want(room: string, backlog = this.defaultBacklog): boolean {
    if (this.wanted.has(room)) return false;
    this.wanted.set(room, backlog);
    if (this.online) this.writeJoin(room);
    return true;
  }

  /**
   * Stops wanting a room; leaves it now when joined on this link (`leave`: false when the server
   * took us out already, e.g. the room was closed). False if it was not wanted.
   */
  unwant(room: string, leave = true): boolean {
    if (!this.wanted.delete(room)) return false;
    this.cancelRetry(room);
    this.everLive.delete(room);
    if (this.offsets.get(room) !== undefined) this.left.add(room);
    if (this.online && this.link.delete(room) && leave) {
      this.host.write({ _ct: "leave_room", r: room });
    }
    return true;
  }

  /** Logged in: joins every wanted room the server has; returns those it has not (no longer wanted). */
  login(extended: boolean, known: ReadonlySet<string>): string[] {
    this.online = true;
    this.extended = extended;
    this.link.clear();
    for (const room of this.left) this.offsets.forget(room);
    this.left.clear();
    const gone: string[] = [];
    for (const room of [...this.wanted.keys()]) {
      if (!known.has(room)) {
        // Joining an unknown room makes an original server drop the connection: never send it.
        this.wanted.delete(room);
        this.everLive.delete(room);
        this.offsets.forget(room);
        gone.push(room);
        continue;
      }
      this.writeJoin(room);
    }
    return gone;
  }

  linkClosed(): void {
    this.online = false;
    this.link.clear();
    for (const room of [...this.retries.keys()]) this.cancelRetry(room);
  }

  /**
   * The user_message events to pass to the app for one received: none when the app has it
   * already (an offset at or below the newest it got of the room) or while its join's backlog is
   * held, else the event itself (or, when the held backlog reaches its bound, all of it).
   */
  onMessage(ev: UserMessageEvent): UserMessageEvent[] {
    if (!this.wanted.has(ev.r) || !isOffset(ev.id)) return [ev];
    const l = this.link.get(ev.r);
    if (l?.held !== undefined && !l.live) {
      l.held.push(ev);
      return l.held.length < HELD_MAX ? [] : this.release(l);
    }
    return this.pass(ev, l);
  }

  /**
   * A join went live (user_joined_room): what to tell the app (undefined if not ours), and the
   * messages of its backlog to pass on first.
   */
  onJoined(ev: UserJoinedRoomEvent): { joined: RoomJoined; first: UserMessageEvent[] } | undefined {
    const room = ev.r;
    const l = this.link.get(room);
    if (l === undefined || l.live) return undefined;
    const first = this.release(l);
    l.live = true;
    this.cancelRetry(room);
    this.everLive.add(room);
    this.left.delete(room);
    const epoch = typeof ev.e === "string" ? ev.e : undefined;
    const offset = isOffset(ev.o) ? ev.o : undefined;
    let status: RoomJoined["status"] = "fresh";
    if (l.status !== undefined) status = l.status;
    else if (l.mode === "resume") status = isResumeStatus(ev.rs) && epoch ? ev.rs : "reset";
    if (epoch !== undefined && offset !== undefined) {
      this.offsets.live(room, epoch, offset, l.seen);
    } else this.offsets.forget(room); // a server without history: nothing to resume from
    const joined: RoomJoined = {
      room,
      status,
      replayed: l.replayed,
      rejoin: l.rejoin,
      ...(epoch !== undefined && { epoch }),
      ...(offset !== undefined && { offset }),
    };
    return { joined, first };
  }

  /** Passes on the held messages the app does not have yet; holds no more for this join. */
  private release(l: LinkRoom): UserMessageEvent[] {
    const held = l.held ?? [];
    l.held = undefined;
    return held.flatMap((m) => this.pass(m, l));
  }

  /** The message, unless the app has it already (then nothing); counts it for its join. */
  private pass(ev: UserMessageEvent, l: LinkRoom | undefined): UserMessageEvent[] {
    const id = ev.id!;
    if (!this.offsets.isNew(ev.r, id)) return [];
    this.offsets.saw(ev.r, id);
    if (l !== undefined && !l.live) {
      l.replayed++;
      l.seen = Math.max(l.seen, id);
    }
    return [ev];
  }

  /** An `error` answering a join_room (cmd "join_room"). */
  onJoinError(ev: ErrorEvent): JoinErrorOutcome {
    const room = ev.r;
    if (typeof room !== "string" || !this.wanted.has(room)) return "ignored";
    const l = this.link.get(room);
    switch (ev.code) {
      case ErrorCode.ALREADY_IN_ROOM:
        if (l === undefined) return "ignored";
        l.live = true;
        return "live";
      case ErrorCode.STORE_UNAVAILABLE:
        // The server undid the join (its history could not be read): join again later.
        this.link.delete(room);
        this.scheduleRetry(room);
        return "retrying";
      case ErrorCode.BAD_OFFSET:
        if (l?.mode !== "resume") break;
        this.offsets.forget(room);
        this.writeJoin(room, "reset");
        return "retrying";
      case ErrorCode.BAD_LIMIT:
        if (l?.mode !== "backlog") break;
        this.wanted.set(
          room,
          this.maxBacklog !== undefined && this.maxBacklog < l.backlog ? this.maxBacklog : 0,
        );
        this.writeJoin(room);
        return "retrying";
    }
    this.wanted.delete(room);
    this.link.delete(room);
    this.everLive.delete(room);
    this.cancelRetry(room);
    return "refused";
  }

  /** `reset`: a plain join after the server refused our resume, reported as a reset. */
  private writeJoin(room: string, reset?: "reset"): void {
    const cmd: JoinRoomCommand = { _ct: "join_room", r: room };
    let mode: JoinMode = "plain";
    let backlog = 0;
    const pos = this.offsets.get(room);
    if (this.extended && reset === undefined) {
      if (pos !== undefined && !this.left.has(room)) {
        cmd.o = pos.last;
        cmd.e = pos.epoch;
        mode = "resume";
      } else {
        const asked = Math.floor(this.wanted.get(room) ?? 0);
        backlog = Math.max(0, Math.min(asked, this.maxBacklog ?? asked));
        if (backlog > 0) {
          cmd.b = backlog;
          mode = "backlog";
        }
      }
    }
    this.link.set(room, {
      live: false,
      mode,
      backlog,
      held: mode === "backlog" ? [] : undefined,
      replayed: 0,
      seen: 0,
      rejoin: this.everLive.has(room),
      ...(reset !== undefined && { status: reset }),
    });
    this.host.write(cmd);
  }

  private scheduleRetry(room: string): void {
    const r = this.retries.get(room) ?? { timer: undefined, attempt: 0 };
    this.host.clock.clearTimeout(r.timer);
    const ceiling = this.retryBackoff.ceiling(r.attempt++);
    const delay = ceiling / 2 + (this.host.random() * ceiling) / 2;
    r.timer = this.host.clock.setTimeout(() => {
      r.timer = undefined;
      if (this.online && this.wanted.has(room) && !this.link.has(room)) this.writeJoin(room);
    }, delay);
    this.retries.set(room, r);
  }

  private cancelRetry(room: string): void {
    const r = this.retries.get(room);
    if (r === undefined) return;
    this.host.clock.clearTimeout(r.timer);
    this.retries.delete(room);
  }
}

function isOffset(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function isResumeStatus(v: unknown): v is ResumeStatus {
  return v === "exact" || v === "gap" || v === "reset";
}
