import { checkDisplayName, displayNameKeys, ErrorCode } from "../protocol/index.js";
import { ChatError } from "./errors.js";
import { randomId, USER_ID_LENGTH } from "./ids.js";

/**
 * Connected users: unique user ids, and display names unique among connected users by their
 * skeletons (`displayNameKeys`: case-insensitive, whole-script lookalikes of a Latin name count as
 * it). A user's name starts as its id, so ids and default names share one namespace.
 */
export class UserRegistry {
  /** every key of every connected user's name -> that user's id (a name has 1 or 2 keys) */
  private readonly holders = new Map<string, string>();
  private users = 0;

  constructor(private readonly maxNameChars: number) {}

  get size(): number {
    return this.users;
  }

  /** Makes a fresh user id, registered as its own display name. */
  register(): string {
    for (;;) {
      const id = randomId(USER_ID_LENGTH);
      const keys = displayNameKeys(id);
      if (keys.every((k) => !this.holders.has(k))) {
        for (const k of keys) this.holders.set(k, id);
        this.users++;
        return id;
      }
    }
  }

  /**
   * Changes `userId`'s display name from `current` to `wanted`, and returns the name to store
   * and show: `wanted` NFKC-normalised (equal to `current` when nothing changes). Throws
   * NAME_INVALID or NAME_TAKEN.
   */
  rename(userId: string, current: string, wanted: string): string {
    const check = checkDisplayName(wanted, this.maxNameChars);
    if (!check.ok) throw new ChatError(ErrorCode.NAME_INVALID, `invalid name: ${check.message}`);
    const keys = displayNameKeys(check.name);
    for (const k of keys) {
      const holder = this.holders.get(k);
      if (holder !== undefined && holder !== userId) {
        throw new ChatError(
          ErrorCode.NAME_TAKEN,
          `the name "${check.name}" is taken (or looks like a name in use)`,
        );
      }
    }
    this.forget(userId, current);
    for (const k of keys) this.holders.set(k, userId);
    return check.name;
  }

  release(userId: string, name: string): void {
    this.forget(userId, name);
    this.users--;
  }

  private forget(userId: string, name: string): void {
    for (const k of displayNameKeys(name)) {
      if (this.holders.get(k) === userId) this.holders.delete(k);
    }
  }
}
