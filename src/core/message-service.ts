import type { SendMessageCommand, UserMessageEvent } from "../protocol/index.js";
import { EncodedEvent, ErrorCode } from "../protocol/index.js";
import type { ChatContext } from "./chat-context.js";
import { ChatError } from "./errors.js";
import { toEvent } from "./stored-event.js";
import type { LogEntry } from "./room-stream.js";
import type { Session } from "./session.js";

/**
 * Room messages from a sender to the log, and from the log (once stored, with their offsets) to
 * the members: the hot path's middle. Also the resend-dedup memory: a (key, cid) seen before is
 * answered with the original, to its sender only.
 */
export class MessageService {
  constructor(private readonly ctx: ChatContext) {}

  send(session: Session, cmd: SendMessageCommand): void {
    const { log, limits, metrics, membership, recentIds } = this.ctx;
    const started = performance.now();
    const key = session.clientKey;
    const { cid, c: text } = cmd;
    const prior = key !== undefined && cid !== undefined ? recentIds.get(key, cid) : undefined;
    if (prior !== undefined) {
      // A resend after a reconnect of a message already broadcast: only its sender gets the
      // original event again (to clear its outbox); nobody sees the message twice. While the
      // original is not durable yet, the very same event goes (withdrawn with it if it fails).
      const s = prior.id !== undefined ? log.stream(prior.r) : undefined;
      const pending =
        s !== undefined && prior.id! > s.committed ? s.tailFrom(prior.id!)[0] : undefined;
      session.deliver(pending?.event ?? new EncodedEvent(prior));
      return;
    }
    const room = this.ctx.rooms.get(cmd.r);
    if (!membership.has(session, room)) {
      throw new ChatError(ErrorCode.NOT_IN_ROOM, `you are not in "${room.name}"`, room.name);
    }
    if (text.length > limits.maxMessageChars) {
      throw new ChatError(
        ErrorCode.MESSAGE_TOO_LONG,
        `a message is at most ${limits.maxMessageChars} characters`,
        room.name,
      );
    }
    if (text.length === 0) throw new ChatError(ErrorCode.MESSAGE_EMPTY, "empty message", room.name);
    if (!log.storeHealthy) {
      throw new ChatError(
        ErrorCode.STORE_UNAVAILABLE,
        "the message store is failing: the message was not sent; send it again shortly",
        room.name,
      );
    }
    log.submit(
      room.name,
      {
        ts: this.ctx.clock.now(),
        user: session.userId,
        name: session.name,
        text,
        ...(cid !== undefined && key !== undefined && { cid, key }),
        ...(cid !== undefined && key === undefined && { cid }),
      },
      session,
    );
    metrics.broadcastDuration(performance.now() - started);
  }

  /** MessageLog: a message has its offset: to the room's members here, and into the dedup memory. */
  deliver(entry: LogEntry): void {
    const room = this.ctx.rooms.find(entry.msg.room);
    if (room !== undefined) this.ctx.membership.publish(room, entry.event, entry.sender);
    const { key, cid } = entry.msg;
    if (key !== undefined && cid !== undefined) {
      this.ctx.recentIds.remember(
        key,
        cid,
        entry.event.event as UserMessageEvent,
        entry.event.json.length,
      );
    }
  }

  /** MessageLog: these messages could not be stored; they reached nobody. Their senders are told. */
  failed(entries: readonly LogEntry[], err: unknown): void {
    for (const e of entries) {
      const { key, cid, room } = e.msg;
      if (key !== undefined && cid !== undefined) this.ctx.recentIds.forget(key, cid);
      const receipt = e.receipt;
      e.receipt = undefined;
      receipt?.failed(err);
      e.sender?.sendError(
        ErrorCode.STORE_UNAVAILABLE,
        `the message could not be stored (${String(err)}); it was not delivered: send it again`,
        { cmd: "send_message", r: room, ...(cid !== undefined && { cid }) },
      );
    }
  }

  /** Reloads the resend-dedup memory from the store (at start): a resend after a restart is caught. */
  async warmDedup(): Promise<void> {
    const { recentIds, log, clock } = this.ctx;
    for (const m of await log.recentWithClientIds(
      clock.now() - recentIds.ttlMs,
      recentIds.maxEntries,
    )) {
      if (m.key === undefined || m.cid === undefined) continue;
      const event = toEvent(m);
      recentIds.remember(m.key, m.cid, event, JSON.stringify(event).length, m.ts);
    }
  }
}
