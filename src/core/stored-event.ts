import type { UserMessageEvent } from "../protocol/index.js";
import type { StoredMessage } from "./ports.js";

/** A stored message as the `user_message` event it was broadcast as. */
export function toEvent(m: StoredMessage): UserMessageEvent {
  return {
    _et: "user_message",
    r: m.room,
    u: m.user,
    c: m.text,
    id: m.offset,
    ts: m.ts,
    n: m.name,
    ...(m.cid !== undefined && { cid: m.cid }),
  };
}
