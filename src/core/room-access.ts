import type { Command } from "../protocol/index.js";
import { ErrorCode } from "../protocol/index.js";
import { ChatError } from "./errors.js";
import type { Identity } from "./ports.js";

/**
 * What a verified token lets its session do: the rooms it may read (join, resume, history,
 * members, the room list) and write (send), and whether the token fixes its display name. Rooms
 * not limited by the token (absent in the Identity) are all allowed. Sets, not the token's
 * arrays: send_message checks it on every message.
 */
export class RoomAccess {
  private readonly read: ReadonlySet<string> | undefined;
  private readonly write: ReadonlySet<string> | undefined;
  /** the token gives a `name`: the session may not choose another */
  readonly fixedName: boolean;

  constructor(identity: Identity) {
    this.read = identity.readRooms && new Set(identity.readRooms);
    this.write = identity.writeRooms && new Set(identity.writeRooms);
    this.fixedName = identity.name !== undefined;
  }

  canRead(room: string): boolean {
    return this.read === undefined || this.read.has(room);
  }

  canWrite(room: string): boolean {
    return this.write === undefined || this.write.has(room);
  }

  /** Throws FORBIDDEN when the token does not allow `cmd`. */
  check(cmd: Command): void {
    switch (cmd._ct) {
      case "join_room":
      case "history":
      case "list_members":
        if (!this.canRead(cmd.r)) {
          throw new ChatError(
            ErrorCode.FORBIDDEN,
            `your token does not allow reading "${cmd.r}"`,
            cmd.r,
          );
        }
        return;
      case "send_message":
        if (!this.canWrite(cmd.r)) {
          throw new ChatError(
            ErrorCode.FORBIDDEN,
            `your token does not allow writing to "${cmd.r}"`,
            cmd.r,
          );
        }
        return;
      case "set_name":
        if (this.fixedName) {
          throw new ChatError(ErrorCode.FORBIDDEN, "your display name is set by your token");
        }
        return;
      default:
        return;
    }
  }
}
