import { ErrorCode } from "../protocol/index.js";
import { ChatError } from "./errors.js";
import { randomId, USER_ID_LENGTH } from "./ids.js";

// Letters, digits, and _ . - ; no spaces, so names read unambiguously in member lists and commands.
const NAME_PATTERN = /^[\p{L}\p{N}_.-]+$/u;

/**
 * Connected users: unique user ids, and display names unique (case-insensitively) among connected
 * users. A user's name starts as its id, so ids and default names share one namespace.
 */
export class UserRegistry {
  private readonly names = new Map<string, string>(); // folded name -> user id

  constructor(private readonly maxNameChars: number) {}

  get size(): number {
    return this.names.size;
  }

  /** Makes a fresh user id, registered as its own display name. */
  register(): string {
    for (;;) {
      const id = randomId(USER_ID_LENGTH);
      const key = fold(id);
      if (!this.names.has(key)) {
        this.names.set(key, id);
        return id;
      }
    }
  }

  /** Changes `userId`'s display name from `current` to `wanted`; throws NAME_INVALID or NAME_TAKEN. */
  rename(userId: string, current: string, wanted: string): void {
    if (wanted.length === 0 || wanted.length > this.maxNameChars || !NAME_PATTERN.test(wanted)) {
      throw new ChatError(
        ErrorCode.NAME_INVALID,
        `a name is 1 to ${this.maxNameChars} letters, digits, "_", "." or "-"`,
      );
    }
    const key = fold(wanted);
    const holder = this.names.get(key);
    if (holder !== undefined && holder !== userId) {
      throw new ChatError(ErrorCode.NAME_TAKEN, `the name "${wanted}" is taken`);
    }
    this.names.delete(fold(current));
    this.names.set(key, userId);
  }

  release(name: string): void {
    this.names.delete(fold(name));
  }
}

function fold(name: string): string {
  return name.toLowerCase();
}
