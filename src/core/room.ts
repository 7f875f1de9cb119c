/**
 * A chat room: its metadata and its message sequence. Who is in it is Membership's to keep.
 */
export class Room {
  /** sequence number of the next message: per room, starting at 1, increasing by 1 */
  private seq = 1;

  constructor(
    readonly name: string,
    /** changes when a rooms reload gives the room a new description */
    public description: string,
  ) {}

  nextMessageId(): number {
    return this.seq++;
  }
}
