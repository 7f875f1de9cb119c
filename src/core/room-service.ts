import type {
  Event,
  HistoryCommand,
  JoinRoomCommand,
  MemberInfo,
  ResumeStatus,
} from "../protocol/index.js";
import { EncodedEvent, ErrorCode } from "../protocol/index.js";
import { CatchUp, type CatchUpHost, planJoin } from "./catch-up.js";
import type { ChatContext } from "./chat-context.js";
import { ChatError } from "./errors.js";
import type { MessageLog } from "./message-log.js";
import type { PresenceEntry } from "./ports.js";
import type { Room } from "./room.js";
import type { Session } from "./session.js";

/** A history page without `l`. */
const DEFAULT_HISTORY_PAGE = 50;
/** How long a rename from another node is remembered, so it is shown once (ms). */
const RENAME_DEDUP_MS = 5_000;

/**
 * Joining and leaving rooms, and what rooms tell about themselves: member lists and counts,
 * history pages. A join may first catch up (CatchUp: resume or backlog) and, on a cluster node,
 * first take the room up (its stream and its other nodes' members). Presence goes to this node's
 * members at once and to the other nodes once the Directory has it.
 */
export class RoomService implements CatchUpHost {
  readonly log: MessageLog;
  readonly replayLowWater: number;
  /** renames from other nodes delivered lately (see onRemoteEvent) */
  private readonly recentRenames = new Set<string>();

  constructor(private readonly ctx: ChatContext) {
    this.log = ctx.log;
    this.replayLowWater = Math.floor(ctx.limits.maxOutboundBytes / 2);
  }

  // ------------------------------------------------------------------ joining

  join(session: Session, room: Room, cmd: JoinRoomCommand): Promise<void> | void {
    const { membership, limits, log, presence } = this.ctx;
    if (membership.has(session, room)) {
      throw new ChatError(
        ErrorCode.ALREADY_IN_ROOM,
        `you are already in "${room.name}"`,
        room.name,
      );
    }
    if (membership.roomsOf(session).size >= limits.maxRoomsPerSession) {
      throw new ChatError(
        ErrorCode.TOO_MANY_ROOMS,
        `at most ${limits.maxRoomsPerSession} rooms at once`,
        room.name,
      );
    }
    const prepared = log.prepare(room.name);
    if (prepared === undefined) return this.startJoin(session, room, cmd);
    // A cluster node takes the room up first; the joiner holds it meanwhile (not dropped).
    membership.addPending(session, room);
    const undo = (): void => {
      membership.remove(session, room);
      this.maybeIdle(room);
    };
    return prepared
      .then(() => presence?.take(room.name))
      .then(
        () => {
          if (session.closed || !membership.has(session, room)) return;
          try {
            this.startJoin(session, room, cmd);
          } catch (err) {
            undo();
            throw err;
          }
        },
        (err: unknown) => {
          undo();
          throw new ChatError(
            ErrorCode.STORE_UNAVAILABLE,
            `the room could not be joined (${String(err)}): join again later`,
            room.name,
          );
        },
      );
  }

  /** The join proper, once the room's stream is current: live at once, or after a replay. */
  private startJoin(session: Session, room: Room, cmd: JoinRoomCommand): void {
    const plan = planJoin(cmd, this.log.stream(room.name), this.ctx.limits.historyPageMax);
    if (plan.from === undefined) {
      this.ctx.membership.add(session, room);
      this.announceJoin(session, room, plan.status, 0);
      return;
    }
    this.ctx.membership.addPending(session, room);
    const c = new CatchUp(this, session, room, plan.from, plan.status);
    (session.catchUps ??= new Set()).add(c);
    c.pump();
  }

  /** CatchUp: it has replayed everything up to the room's latest: live from here. */
  goLive(c: CatchUp): void {
    c.session.catchUps?.delete(c);
    this.ctx.membership.goLive(c.session, c.room);
    this.announceJoin(c.session, c.room, c.status, c.replayed);
  }

  /** CatchUp: the store failed mid-replay: the join is undone and the client told to retry. */
  abandon(c: CatchUp, err: unknown): void {
    c.session.catchUps?.delete(c);
    this.ctx.membership.remove(c.session, c.room);
    this.maybeIdle(c.room);
    c.session.sendError(
      ErrorCode.STORE_UNAVAILABLE,
      `history could not be read (${String(err)}): join again later`,
      { cmd: "join_room", r: c.room.name },
    );
  }

  /** The joiner gets the member list (and where its stream stands), then everyone sees it join. */
  private announceJoin(
    session: Session,
    room: Room,
    status: ResumeStatus | undefined,
    replayed: number,
  ): void {
    const list = this.members(room);
    const s = this.log.stream(room.name);
    session.deliver(
      new EncodedEvent({
        _et: "user_joined_room",
        r: room.name,
        us: list.map((m) => m.u),
        ...(session.extended && {
          ms: list,
          e: s.epoch,
          // committed, not head: an offset still uncommitted may be withdrawn and given again
          o: s.committed,
          ...(status !== undefined && { rs: status }),
          ...(replayed > 0 && { rp: replayed }),
        }),
      }),
    );
    const joined = this.participation(room, session, "joined");
    this.ctx.membership.publish(room, joined);
    this.ctx.events.presence(room.name, joined);
    const { presence, cluster } = this.ctx;
    if (presence !== undefined && cluster !== undefined) {
      presence.directory.join(room.name, session.userId, session.name).then(
        () => cluster.publishRoomEvent(room.name, "p", joined.json),
        (err: unknown) => this.presenceFailed(err),
      );
    }
  }

  // ------------------------------------------------------------------ leaving

  /**
   * Members (the leaver included) see `left`, then the leaver is removed. One still catching up
   * was never announced: only it is told.
   */
  leave(session: Session, room: Room): void {
    const left = this.participation(room, session, "left");
    if (this.ctx.membership.isLive(session, room)) this.announceLeave(session, room, left);
    else {
      this.cancelCatchUp(session, room);
      session.deliver(left);
    }
    this.ctx.membership.remove(session, room);
    this.maybeIdle(room);
  }

  /** The session ended: out of every room; the live ones' members see it leave. */
  leaveAll(session: Session): void {
    const { membership } = this.ctx;
    if (session.catchUps !== undefined) for (const c of session.catchUps) c.cancel();
    session.catchUps = undefined;
    for (const room of [...membership.roomsOf(session)]) {
      const live = membership.isLive(session, room);
      membership.remove(session, room);
      if (live) this.announceLeave(session, room, this.participation(room, session, "left"));
      this.maybeIdle(room);
    }
  }

  private announceLeave(session: Session, room: Room, left: EncodedEvent): void {
    this.ctx.membership.publish(room, left);
    this.ctx.events.presence(room.name, left);
    this.leaveDirectory(session, room, left);
  }

  /** A cluster node: the other nodes' copies of the room's members lose `session`. */
  private leaveDirectory(session: Session, room: Room, left: EncodedEvent): void {
    const { presence, cluster } = this.ctx;
    if (presence !== undefined && cluster !== undefined) {
      presence.directory.leave(room.name, session.userId).then(
        () => cluster.publishRoomEvent(room.name, "p", left.json),
        (err: unknown) => this.presenceFailed(err),
      );
    }
  }

  /**
   * The room was removed (a rooms reload): each member here gets `room_closed` (extension
   * clients) and its own `left` (every client: the original protocol's way to say "you are no
   * longer in this room"), and is taken out. The members are not told about each other: they all
   * go at once. Returns how many members were removed. The room's stream and history stay.
   */
  closeRoom(room: Room, message: string): number {
    const { membership } = this.ctx;
    const closed = new EncodedEvent({ _et: "room_closed", r: room.name, message });
    const members = membership.everyMemberOf(room);
    for (const session of members) {
      const live = membership.isLive(session, room);
      if (!live) this.cancelCatchUp(session, room);
      const left = this.participation(room, session, "left");
      session.deliver(closed);
      session.deliver(left);
      membership.remove(session, room);
      if (live) {
        this.ctx.events.presence(room.name, left);
        this.leaveDirectory(session, room, left);
      }
    }
    this.maybeIdle(room);
    return members.length;
  }

  private cancelCatchUp(session: Session, room: Room): void {
    const catchUps = session.catchUps;
    if (catchUps === undefined) return;
    for (const c of catchUps) {
      if (c.room !== room) continue;
      c.cancel();
      catchUps.delete(c);
    }
  }

  /** A cluster node drops a room it no longer has any member in (it stops receiving it). */
  private maybeIdle(room: Room): void {
    if (this.ctx.membership.hasAny(room)) return;
    this.log.idle(room.name);
    this.ctx.presence?.drop(room.name);
  }

  private participation(room: Room, session: Session, s: "joined" | "left"): EncodedEvent {
    return new EncodedEvent({
      _et: "room_participation",
      r: room.name,
      u: session.userId,
      s,
      n: session.name,
      ts: this.ctx.clock.now(),
    });
  }

  private presenceFailed(err: unknown): void {
    this.ctx.metrics.busError("publish");
    this.ctx.logger.warn({ err: String(err) }, "cluster presence not updated");
  }

  // ------------------------------------------------------------------ what rooms tell

  /** The members of `room`: here, and (on a cluster node that has it up) on the other nodes. */
  members(room: Room): MemberInfo[] {
    const list: MemberInfo[] = [];
    for (const m of this.ctx.membership.membersOf(room)) list.push({ u: m.userId, n: m.name });
    if (this.ctx.presence !== undefined) list.push(...this.ctx.presence.remoteMembers(room.name));
    return list;
  }

  /** `room_members` for `room` (a cluster node without the room up asks the Directory). */
  listMembers(session: Session, room: Room): Promise<void> | void {
    const send = (ms: MemberInfo[]): void => {
      session.deliver(new EncodedEvent({ _et: "room_members", r: room.name, ms }));
    };
    const { presence, cluster } = this.ctx;
    if (presence === undefined || cluster === undefined || cluster.isLive(room.name)) {
      return send(this.members(room));
    }
    return presence.directory.members(room.name).then(
      (all) => send(all.map((e) => ({ u: e.user, n: e.name }))),
      (err: unknown) => {
        throw new ChatError(
          ErrorCode.CLUSTER_UNAVAILABLE,
          `members unavailable (${String(err)})`,
          room.name,
        );
      },
    );
  }

  /** `room_list` with member counts (over the whole cluster on a cluster node). */
  listRooms(session: Session): Promise<void> | void {
    const access = session.access;
    const all = [...this.ctx.rooms.rooms()].filter((r) => access?.canRead(r.name) ?? true);
    const send = (counts: number[]): void => {
      session.deliver(
        new EncodedEvent({
          _et: "room_list",
          rs: all.map((r, i) => ({ n: r.name, d: r.description, m: counts[i]! })),
        }),
      );
    };
    const presence = this.ctx.presence;
    if (presence === undefined) {
      return send(all.map((r) => this.ctx.membership.membersOf(r).size));
    }
    return presence.directory.counts(all.map((r) => r.name)).then(send, (err: unknown) => {
      throw new ChatError(ErrorCode.CLUSTER_UNAVAILABLE, `room list unavailable (${String(err)})`);
    });
  }

  /** A page of a room's history, answered with a `history` event (or an error). */
  history(session: Session, cmd: HistoryCommand): Promise<void> {
    const room = this.ctx.rooms.get(cmd.r);
    const l = cmd.l ?? DEFAULT_HISTORY_PAGE;
    const max = this.ctx.limits.historyPageMax;
    if (l > max) throw new ChatError(ErrorCode.BAD_LIMIT, `a page is at most ${max}`, room.name);
    const unavailable = (err: unknown): never => {
      throw new ChatError(
        ErrorCode.STORE_UNAVAILABLE,
        `history unavailable: ${String(err)}`,
        room.name,
      );
    };
    return this.log.fresh(room.name).then(async (s) => {
      const bound = cmd.before ?? cmd.after;
      if (bound !== undefined && bound > s.head + (cmd.before !== undefined ? 1 : 0)) {
        throw new ChatError(
          ErrorCode.BAD_OFFSET,
          `offset ${bound} is beyond the latest message of "${room.name}" (${s.head})`,
          room.name,
        );
      }
      const ms = await (
        cmd.after !== undefined
          ? this.log.readAfter(room.name, cmd.after, l)
          : this.log.readBefore(room.name, cmd.before ?? s.committed + 1, l)
      ).catch(unavailable);
      const more =
        cmd.after !== undefined
          ? (ms.at(-1)?.id ?? cmd.after) < s.committed
          : ms.length > 0 && ms[0]!.id! > s.first;
      session.deliver(
        new EncodedEvent({
          _et: "history",
          r: room.name,
          e: s.epoch,
          ms,
          first: s.first,
          head: s.committed,
          more,
        }),
      );
    }, unavailable);
  }

  // ------------------------------------------------------------------ the other nodes

  /** ClusterLog: presence from another node, for this node's members of the room. */
  onRemoteEvent(roomName: string, kind: string, node: string, json: string): void {
    const room = this.ctx.rooms.find(roomName);
    if (room === undefined) return;
    let event: Event;
    try {
      event = JSON.parse(json) as Event;
    } catch {
      return;
    }
    if (kind === "p" && event._et === "room_participation") {
      this.ctx.presence?.onEvent(roomName, node, event);
      this.ctx.membership.publish(room, new EncodedEvent(event, json));
    } else if (kind === "n" && event._et === "user_renamed") {
      this.ctx.presence?.onEvent(roomName, node, event);
      // Sent on each room the renamer is in: a member sharing several of them is told once.
      if (this.recentRenames.has(json)) return;
      this.recentRenames.add(json);
      this.ctx.clock.setTimeout(() => this.recentRenames.delete(json), RENAME_DEDUP_MS);
      this.ctx.membership.publish(room, new EncodedEvent(event, json));
    }
  }

  /** ClusterPresence: members of dead nodes were removed: their rooms see them leave. */
  onReaped(removed: ReadonlyArray<{ room: string } & PresenceEntry>): void {
    for (const r of removed) {
      const room = this.ctx.rooms.find(r.room);
      if (room === undefined) continue;
      const left = new EncodedEvent({
        _et: "room_participation",
        r: r.room,
        u: r.user,
        s: "left",
        n: r.name,
        ts: this.ctx.clock.now(),
      });
      this.ctx.membership.publish(room, left);
      this.ctx.events.presence(r.room, left);
      // on behalf of the dead node, so that every node's copy of its members loses this one
      this.ctx.cluster?.publishRoomEvent(r.room, "p", left.json, r.node);
    }
  }
}
