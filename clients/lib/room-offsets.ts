/** Where the client stands in one room's stream. */
export interface RoomPosition {
  /** the stream's epoch: offsets compare only within one */
  readonly epoch: string;
  /** where a resume starts: the newest offset the client has, or that a join went live at */
  last: number;
  /** the newest offset (`user_message.id`) passed to the app in this epoch (0: none yet) */
  seen: number;
}

/**
 * Per room, the epoch and the last offset this client has: what a rejoin after a reconnect
 * resumes from (join_room `o` and `e`), and what tells a message the app already has (an `id` at
 * or below the newest passed on, in the same epoch). A room has a position once one of its joins
 * went live with an epoch (user_joined_room `e`, Parley servers with history); before that
 * nothing is known and every message is new.
 *
 * Duplicates are told by what was passed on, not by a join's `o`: a message the app never got
 * is never dropped, even one whose offset `o` already counted.
 */
export class RoomOffsets {
  private readonly rooms = new Map<string, RoomPosition>();

  get(room: string): RoomPosition | undefined {
    return this.rooms.get(room);
  }

  /** Whether a message with this offset is newer than what the app has of the room. */
  isNew(room: string, id: number): boolean {
    const p = this.rooms.get(room);
    return p === undefined || id > p.seen;
  }

  /** The app got the message with this offset. */
  saw(room: string, id: number): void {
    const p = this.rooms.get(room);
    if (p === undefined) return;
    if (id > p.seen) p.seen = id;
    if (id > p.last) p.last = id;
  }

  /**
   * A join went live at offset `o` of epoch `epoch`: the client has everything it asked for up to
   * there. A new epoch (the room's history was lost) starts over at `o`; `seen` is the newest
   * offset passed on for this join before it went live (0: none).
   */
  live(room: string, epoch: string, o: number, seen: number): void {
    const p = this.rooms.get(room);
    if (p === undefined || p.epoch !== epoch) {
      this.rooms.set(room, { epoch, last: Math.max(o, seen), seen });
      return;
    }
    p.last = Math.max(p.last, o, seen);
    p.seen = Math.max(p.seen, seen);
  }

  /** The position is not usable (the server refused it): the next join starts afresh. */
  forget(room: string): void {
    this.rooms.delete(room);
  }
}
