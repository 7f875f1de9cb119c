import type { EncodedEvent } from "../protocol/index.js";
import type { Session } from "./session.js";

/** A chat room: its metadata and its current members. */
export class Room {
  readonly members = new Set<Session>();
  /** sequence number of the next message: per room, starting at 1, increasing by 1 */
  private seq = 1;

  constructor(
    readonly name: string,
    readonly description: string,
  ) {}

  nextMessageId(): number {
    return this.seq++;
  }

  /**
   * The fan-out: the same encoded bytes are queued on every member. Returns how many members it
   * was queued on.
   */
  broadcast(event: EncodedEvent): number {
    let n = 0;
    for (const member of this.members) if (member.deliver(event)) n++;
    return n;
  }
}
