import type { EncodedEvent } from "../protocol/index.js";
import type { Metrics } from "./ports.js";
import type { Room } from "./room.js";
import type { Session } from "./session.js";

const NO_ROOMS: ReadonlySet<Room> = new Set();
const NO_MEMBERS: ReadonlySet<Session> = new Set();

/**
 * Room membership and fan-out, with one owner: the only code that changes who is in which room,
 * and the one path by which an event reaches a room's members. Membership is kept as two maps
 * (room -> members, session -> rooms), as socket.io-adapter does.
 *
 * A session that joins with a replay (CatchUp) is first a member on its own side only (it may
 * send to the room and the room counts against its limit) and goes live, into the room's side
 * and so into its fan-out and member lists, once it has caught up.
 *
 * Flow control lives here because the fan-out is where a sender meets its readers: when an event
 * of `sender` is queued on a member whose queue is above the high-water mark, the sender is held
 * back (its input is no longer read) until that member drains. A burst is then paced by the
 * readers instead of overflowing them; a member that stopped reading is cut by its write deadline
 * (see Session), which releases the senders it held.
 */
export class Membership {
  private readonly byRoom = new Map<Room, Set<Session>>();
  private readonly bySession = new Map<Session, Set<Room>>();
  /** members still catching up, per room (on their side only) */
  private readonly pendingByRoom = new Map<Room, number>();

  constructor(private readonly metrics: Metrics) {}

  has(session: Session, room: Room): boolean {
    return this.bySession.get(session)?.has(room) ?? false;
  }

  /** The rooms `session` is in, in join order. */
  roomsOf(session: Session): ReadonlySet<Room> {
    return this.bySession.get(session) ?? NO_ROOMS;
  }

  /** The members of `room`, in join order. */
  membersOf(room: Room): ReadonlySet<Session> {
    return this.byRoom.get(room) ?? NO_MEMBERS;
  }

  /**
   * Every member of `room`, live or still catching up. Walks all sessions when some are catching
   * up there: for rare operations (a room closing), never the hot path.
   */
  everyMemberOf(room: Room): Session[] {
    const all = [...this.membersOf(room)];
    if (!this.pendingByRoom.has(room)) return all;
    for (const [session, rooms] of this.bySession) {
      if (rooms.has(room) && !this.isLive(session, room)) all.push(session);
    }
    return all;
  }

  /** Whether `session` is a live member of `room` (it receives its events). */
  isLive(session: Session, room: Room): boolean {
    return this.byRoom.get(room)?.has(session) ?? false;
  }

  /** Adds a live member. */
  add(session: Session, room: Room): void {
    this.addPending(session, room);
    this.goLive(session, room);
  }

  /** Adds a member that does not receive the room's events yet (it is catching up). */
  addPending(session: Session, room: Room): void {
    let rooms = this.bySession.get(session);
    if (rooms === undefined) this.bySession.set(session, (rooms = new Set()));
    if (rooms.has(room)) return;
    rooms.add(room);
    this.pendingByRoom.set(room, (this.pendingByRoom.get(room) ?? 0) + 1);
  }

  goLive(session: Session, room: Room): void {
    let members = this.byRoom.get(room);
    if (members === undefined) this.byRoom.set(room, (members = new Set()));
    if (members.has(session)) return;
    members.add(session);
    this.unpend(room);
  }

  /** Whether `room` has any member here, live or catching up. */
  hasAny(room: Room): boolean {
    return this.byRoom.has(room) || this.pendingByRoom.has(room);
  }

  private unpend(room: Room): void {
    const n = (this.pendingByRoom.get(room) ?? 0) - 1;
    if (n <= 0) this.pendingByRoom.delete(room);
    else this.pendingByRoom.set(room, n);
  }

  remove(session: Session, room: Room): void {
    const members = this.byRoom.get(room);
    const wasLive = members !== undefined && members.delete(session);
    if (wasLive && members.size === 0) this.byRoom.delete(room);
    const rooms = this.bySession.get(session);
    if (rooms !== undefined && rooms.delete(room)) {
      if (rooms.size === 0) this.bySession.delete(session);
      if (!wasLive) this.unpend(room);
    }
  }

  /**
   * Queues `event` on every member of `room`; returns on how many. With a `sender`, a member left
   * congested by it holds the sender back (see the class comment).
   */
  publish(room: Room, event: EncodedEvent, sender?: Session): number {
    const members = this.byRoom.get(room);
    if (members === undefined) return 0;
    let n = 0;
    for (const member of members) {
      if (!member.deliver(event)) continue;
      n++;
      if (member.congested && sender !== undefined) sender.waitFor(member);
    }
    if (n > 0) this.metrics.eventDelivered(n, event.byteLength + 2);
    return n;
  }

  /** Queues `event` on `session` and on everyone who shares a room with it, once each. */
  publishToPeers(session: Session, event: EncodedEvent): void {
    const told = new Set<Session>([session]);
    session.deliver(event);
    for (const room of this.roomsOf(session)) {
      for (const member of this.membersOf(room)) {
        if (told.has(member)) continue;
        told.add(member);
        member.deliver(event);
      }
    }
    this.metrics.eventDelivered(told.size, event.byteLength + 2);
  }
}
