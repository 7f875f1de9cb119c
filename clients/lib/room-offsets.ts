/** Where the client stands in one room's stream. */
export interface RoomPosition {
  /** the stream's epoch: offsets compare only within one */
  readonly epoch: string;
  /** the newest offset (`user_message.id`) passed to the app, or the join's `o` if newer */
  last: number;
}

/**
 * Per room, the epoch and the last offset this client has: what a rejoin after a reconnect
 * resumes from (join_room `o` and `e`), and what tells a message the app already has (an `id` at
 * or below `last` in the same epoch). A room has a position once one of its joins went live with
 * an epoch (user_joined_room `e`, Parley servers with history); before that nothing is known and
 * every message is new.
 */
export class RoomOffsets {
  private readonly rooms = new Map<string, RoomPosition>();

  get(room: string): RoomPosition | undefined {
    return this.rooms.get(room);
  }

  /** Whether a message with this offset is newer than what the app has of the room. */
  isNew(room: string, id: number): boolean {
    const p = this.rooms.get(room);
    return p === undefined || id > p.last;
  }

  /** The app got the message with this offset. */
  saw(room: string, id: number): void {
    const p = this.rooms.get(room);
    if (p !== undefined && id > p.last) p.last = id;
  }

  /**
   * A join went live at offset `o` of epoch `epoch`: the client has everything it asked for up to
   * there. A new epoch (the room's history was lost) starts over at `o`.
   */
  live(room: string, epoch: string, o: number): void {
    const p = this.rooms.get(room);
    if (p === undefined || p.epoch !== epoch) this.rooms.set(room, { epoch, last: o });
    else if (o > p.last) p.last = o;
  }

  /** The position is not usable (the server refused it): the next join starts afresh. */
  forget(room: string): void {
    this.rooms.delete(room);
  }
}
