import type { UserMessageEvent } from "../protocol/index.js";
import { checkDisplayName, wellFormed } from "../protocol/index.js";
import type { ChatContext } from "./chat-context.js";

/** A message posted into a room by a poster that is not a session (a device, a bridge). */
export interface ExternalPost {
  room: string;
  /** the poster's user id (a device id, a token's subject): 1 to 64 characters */
  user: string;
  /** display name shown with the message; one a session could not take falls back to `user` */
  name?: string;
  text: string;
  /**
   * Resend dedup, as for a client's `hello.k` and `cid`: a (key, cid) already posted resolves
   * with the original message and posts nothing. Either absent: no dedup.
   */
  key?: string;
  cid?: string;
}

/** A post that is stored (durable) and delivered, or held for delivery in order. */
export interface Posted {
  room: string;
  offset: number;
  /** the original was posted before (same key and cid): nothing new was posted */
  duplicate: boolean;
  event: UserMessageEvent;
}

export type PostErrorCode =
  | "ROOM_NOT_FOUND"
  | "MESSAGE_TOO_LONG"
  | "MESSAGE_EMPTY"
  | "BAD_SENDER"
  /** the store is failing (or failed to store this one): nothing was posted; post again later */
  | "STORE_UNAVAILABLE"
  /** the chat server is not accepting (starting or shutting down) */
  | "NOT_ACCEPTING";

/** Why a post was refused; `code` is stable. */
export class PostError extends Error {
  constructor(
    readonly code: PostErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "PostError";
  }
}

/** Longest poster id, characters (as the resend-dedup memory's key bound). */
const MAX_USER_CHARS = 64;

/**
 * Posts messages into rooms for posters that are not sessions: the path of a client's
 * `send_message` (the same size limits, offsets from the MessageLog, storage, the bus on a
 * cluster node, resend dedup, STORE_UNAVAILABLE while the store fails), minus membership (a
 * poster need not be in the room) and flow control (it is not a connection that could be held
 * back: callers rate-limit it). `post` resolves once the message is stored, so an ingest can
 * acknowledge only then, or rejects with a PostError.
 */
export class ExternalPublisher {
  /** posts with a (key, cid) not yet stored: a resend meanwhile waits for the same outcome */
  private readonly pending = new Map<string, Promise<Posted>>();

  constructor(
    private readonly ctx: ChatContext,
    private readonly accepting: () => boolean,
  ) {}

  post(p: ExternalPost): Promise<Posted> {
    try {
      return this.submit(p);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private submit(p: ExternalPost): Promise<Posted> {
    const { log, limits, recentIds, rooms, clock } = this.ctx;
    if (!this.accepting()) throw new PostError("NOT_ACCEPTING", "the server is not accepting");
    const room = rooms.find(p.room);
    if (room === undefined) throw new PostError("ROOM_NOT_FOUND", `no room named "${p.room}"`);
    const user = wellFormed(p.user);
    if (user.length === 0 || user.length > MAX_USER_CHARS) {
      throw new PostError("BAD_SENDER", `a poster id is 1 to ${MAX_USER_CHARS} characters`);
    }
    const { key, cid } = p;
    const dedupKey = key !== undefined && cid !== undefined ? `${key}\n${cid}` : undefined;
    if (dedupKey !== undefined) {
      const waiting = this.pending.get(dedupKey);
      if (waiting !== undefined) return waiting.then((r) => ({ ...r, duplicate: true }));
      const prior = recentIds.get(key!, cid!);
      if (prior?.id !== undefined) {
        return Promise.resolve({ room: prior.r, offset: prior.id, duplicate: true, event: prior });
      }
    }
    const text = wellFormed(p.text);
    if (text.length > limits.maxMessageChars) {
      throw new PostError(
        "MESSAGE_TOO_LONG",
        `a message is at most ${limits.maxMessageChars} characters`,
      );
    }
    if (text.length === 0) throw new PostError("MESSAGE_EMPTY", "empty message");
    if (!log.storeHealthy) {
      throw new PostError("STORE_UNAVAILABLE", "the message store is failing: post again shortly");
    }
    const named = p.name === undefined ? undefined : checkDisplayName(p.name, limits.maxNameChars);
    const name = named?.ok === true ? named.name : user;
    const posted = new Promise<Posted>((resolve, reject) => {
      log.submit(
        room.name,
        {
          ts: clock.now(),
          user,
          name,
          text,
          ...(dedupKey !== undefined && { cid: wellFormed(cid!), key: wellFormed(key!) }),
        },
        undefined,
        {
          stored: (entry) => {
            const event = entry.event.event as UserMessageEvent;
            // A cluster node delivers (and so remembers) only rooms it has members in.
            if (dedupKey !== undefined && recentIds.get(key!, cid!) === undefined) {
              recentIds.remember(key!, cid!, event, entry.event.json.length);
            }
            resolve({ room: room.name, offset: entry.msg.offset, duplicate: false, event });
          },
          failed: (err) =>
            reject(
              new PostError("STORE_UNAVAILABLE", `the message could not be stored: ${String(err)}`),
            ),
        },
      );
    });
    if (dedupKey !== undefined) {
      this.pending.set(dedupKey, posted);
      const done = (): void => void this.pending.delete(dedupKey);
      posted.then(done, done);
    }
    return posted;
  }
}
