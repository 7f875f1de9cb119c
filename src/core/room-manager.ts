import type { RoomInfo } from "../protocol/index.js";
import { ErrorCode } from "../protocol/index.js";
import { ChatError } from "./errors.js";
import { Room } from "./room.js";

/** A room definition as found in a rooms file. */
export interface RoomSpec {
  name: string;
  description: string;
}

/** The fixed set of rooms, in definition order. */
export class RoomManager {
  private readonly byName = new Map<string, Room>();
  /** the room list as sent in login_successful, built once */
  readonly infos: readonly RoomInfo[];

  constructor(specs: readonly RoomSpec[]) {
    for (const spec of specs) {
      if (this.byName.has(spec.name)) throw new Error(`duplicate room name "${spec.name}"`);
      this.byName.set(spec.name, new Room(spec.name, spec.description));
    }
    this.infos = specs.map((s) => ({ n: s.name, d: s.description }));
  }

  get size(): number {
    return this.byName.size;
  }

  rooms(): IterableIterator<Room> {
    return this.byName.values();
  }

  find(name: string): Room | undefined {
    return this.byName.get(name);
  }

  get(name: string): Room {
    const room = this.byName.get(name);
    if (!room) throw new ChatError(ErrorCode.ROOM_NOT_FOUND, `no room named "${name}"`, name);
    return room;
  }
}
