import type { JoinRoomCommand, ResumeStatus } from "../protocol/index.js";
import { ErrorCode } from "../protocol/index.js";
import { ChatError } from "./errors.js";
import type { MessageLog } from "./message-log.js";
import type { RoomStream } from "./room-stream.js";
import type { Room } from "./room.js";
import type { Session } from "./session.js";

/** Messages read from the store per replay page. */
export const REPLAY_PAGE = 200;

/** Where a join starts: live at once, or after replaying from `from`. */
export interface JoinPlan {
  /** first offset to replay; undefined: nothing to replay */
  from: number | undefined;
  status: ResumeStatus | undefined;
}

/**
 * Reads a join's resume fields against the room's stream: `o` (+ `e`) resumes after `o`, `b`
 * replays the latest `b`. Throws BAD_OFFSET for an offset beyond the room's latest and BAD_LIMIT
 * for a backlog above `pageMax`.
 */
export function planJoin(cmd: JoinRoomCommand, s: RoomStream, pageMax: number): JoinPlan {
  if (cmd.o !== undefined) {
    if (cmd.e !== undefined && cmd.e !== s.epoch) return { from: undefined, status: "reset" };
    if (cmd.o > s.head) {
      throw new ChatError(
        ErrorCode.BAD_OFFSET,
        `offset ${cmd.o} is beyond the latest message of "${s.room}" (${s.head})`,
        s.room,
      );
    }
    const from = cmd.o + 1;
    if (from < s.first) return { from: s.first, status: "gap" };
    return { from: from <= s.head ? from : undefined, status: "exact" };
  }
  if (cmd.b !== undefined) {
    if (cmd.b > pageMax) {
      throw new ChatError(ErrorCode.BAD_LIMIT, `a join backlog is at most ${pageMax}`, s.room);
    }
    const from = Math.max(s.first, s.head - cmd.b + 1);
    return { from: from <= s.head ? from : undefined, status: undefined };
  }
  return { from: undefined, status: undefined };
}

/** What a catch-up needs from the server. */
export interface CatchUpHost {
  readonly log: MessageLog;
  /** the session's queue is low enough for another page below this many bytes */
  readonly replayLowWater: number;
  /** makes the session a live member and tells it (user_joined_room) and the room */
  goLive(c: CatchUp): void;
  /** the replay cannot go on (the store failed): the join is undone and the client told */
  abandon(c: CatchUp, err: unknown): void;
}

/**
 * One session catching up in one room before it goes live: the messages it missed (a resume) or
 * asked for (a backlog) are replayed page by page as the client drains its queue, so a long
 * replay never trips the slow-consumer bound. The last stretch comes from the log's in-memory
 * tail, which always holds every message newer than what the store has, and is delivered in the
 * same synchronous step that makes the session live: no message is missed or seen twice, however
 * busy the room is meanwhile.
 */
export class CatchUp {
  replayed = 0;
  private next: number;
  private reading = false;
  private cancelled = false;

  constructor(
    private readonly host: CatchUpHost,
    readonly session: Session,
    readonly room: Room,
    from: number,
    public status: ResumeStatus | undefined,
  ) {
    this.next = from;
  }

  cancel(): void {
    this.cancelled = true;
  }

  /** Delivers what it can now; call again when the session's queue has drained. */
  pump(): void {
    if (this.reading || this.cancelled || this.session.closed) return;
    const s = this.host.log.stream(this.room.name);
    if (this.next < s.first) this.skipTo(s.first); // retention passed it meanwhile
    if (this.next >= s.tailFirst) {
      for (const entry of s.tailFrom(this.next)) {
        this.session.deliver(entry.event);
        this.replayed++;
      }
      this.cancelled = true;
      this.host.goLive(this);
      return;
    }
    if (this.session.queuedBytes > this.host.replayLowWater) return;
    this.reading = true;
    this.host.log.replayPage(this.room.name, this.next - 1, REPLAY_PAGE).then(
      (page) => {
        this.reading = false;
        if (this.cancelled || this.session.closed) return;
        if (page.length === 0) {
          this.skipTo(s.tailFirst); // none stored before the tail: trimmed, or never kept
        } else {
          const firstId = (page[0]!.event as { id: number }).id;
          if (firstId > this.next) this.skipTo(firstId);
          for (const e of page) this.session.deliver(e);
          this.replayed += page.length;
          this.next = (page.at(-1)!.event as { id: number }).id + 1;
        }
        this.pump();
      },
      (err: unknown) => {
        this.reading = false;
        if (this.cancelled || this.session.closed) return;
        this.cancelled = true;
        this.host.abandon(this, err);
      },
    );
  }

  /** Messages before `offset` are gone: the replay continues there, and says it had a gap. */
  private skipTo(offset: number): void {
    if (offset <= this.next) return;
    this.next = offset;
    if (this.status === "exact") this.status = "gap";
  }
}
