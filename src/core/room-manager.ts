import type { RoomInfo } from "../protocol/index.js";
import { ErrorCode } from "../protocol/index.js";
import { ChatError } from "./errors.js";
import { Room } from "./room.js";

/** A room definition as found in a rooms file. */
export interface RoomSpec {
  name: string;
  description: string;
}

/** What a new set of room definitions changes (see RoomManager.replace). */
export interface RoomsChange {
  /** new rooms, in definition order */
  added: Room[];
  /** rooms no longer defined: the caller closes them (their members are told and removed) */
  removed: Room[];
  /** rooms kept whose description changed */
  changed: Room[];
}

/**
 * The rooms and their metadata, in definition order. The set changes only by `replace` (a rooms
 * reload): a room kept is the same Room object (its members and stream stay), with its new
 * description.
 */
export class RoomManager {
  private byName = new Map<string, Room>();
  private infosCache: readonly RoomInfo[] | undefined;

  constructor(specs: readonly RoomSpec[]) {
    this.byName = build(specs, this.byName).next;
  }

  /** the room list as sent in login_successful, built once per set of rooms */
  get infos(): readonly RoomInfo[] {
    return (this.infosCache ??= [...this.byName.values()].map((r) => ({
      n: r.name,
      d: r.description,
    })));
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

  /** The rooms `specs` would add (by name, in order), without changing anything. */
  wouldAdd(specs: readonly RoomSpec[]): string[] {
    return specs.filter((s) => !this.byName.has(s.name)).map((s) => s.name);
  }

  /**
   * Makes `specs` the set of rooms, in their order. Throws on a duplicate name, changing nothing.
   * Membership is not touched here: the caller closes the removed rooms.
   */
  replace(specs: readonly RoomSpec[]): RoomsChange {
    const { next, added, changed } = build(specs, this.byName);
    const removed = [...this.byName.values()].filter((r) => next.get(r.name) !== r);
    for (const [room, description] of changed) room.description = description;
    this.byName = next;
    this.infosCache = undefined;
    return { added, removed, changed: changed.map(([room]) => room) };
  }
}

/** The new name -> room map: rooms of `current` reused by name, new ones made. Throws on a duplicate. */
function build(
  specs: readonly RoomSpec[],
  current: ReadonlyMap<string, Room>,
): { next: Map<string, Room>; added: Room[]; changed: Array<[Room, string]> } {
  const next = new Map<string, Room>();
  const added: Room[] = [];
  const changed: Array<[Room, string]> = [];
  for (const spec of specs) {
    if (next.has(spec.name)) throw new Error(`duplicate room name "${spec.name}"`);
    let room = current.get(spec.name);
    if (room === undefined) added.push((room = new Room(spec.name, spec.description)));
    else if (room.description !== spec.description) changed.push([room, spec.description]);
    next.set(spec.name, room);
  }
  return { next, added, changed };
}
