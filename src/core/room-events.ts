import type { EncodedEvent } from "../protocol/index.js";
import type { Logger } from "./ports.js";
import type { LogEntry } from "./room-stream.js";

/** A stored room message (`user_message`), as a bridge sees it. */
export type MessageListener = (entry: LogEntry) => void;
/** `room_participation` (joined, left) of `room`. */
export type PresenceListener = (room: string, event: EncodedEvent) => void;

/**
 * What happens in rooms, for bridges to other systems (MQTT). Only what originated on this node
 * is reported: messages this node accepted (its sessions', and those posted through it), once
 * stored, in commit order; joins and leaves of its sessions, and leaves of a dead node's members
 * that this node reaped (a member is reaped by one node only). So with every node of a cluster
 * reporting, each event is reported once cluster-wide. Listeners run on the commit path: a
 * listener that throws is logged and skipped, and must not block.
 */
export class RoomEvents {
  private readonly messageListeners: MessageListener[] = [];
  private readonly presenceListeners: PresenceListener[] = [];

  constructor(private readonly logger: Logger) {}

  onMessage(listener: MessageListener): void {
    this.messageListeners.push(listener);
  }

  onPresence(listener: PresenceListener): void {
    this.presenceListeners.push(listener);
  }

  /** MessageLog: messages this node accepted are stored. */
  committed(entries: readonly LogEntry[]): void {
    if (this.messageListeners.length === 0) return;
    for (const e of entries) {
      for (const l of this.messageListeners) this.run(() => l(e));
    }
  }

  /** RoomService: a member of `room` on this node joined or left (or was reaped by this node). */
  presence(room: string, event: EncodedEvent): void {
    for (const l of this.presenceListeners) this.run(() => l(room, event));
  }

  private run(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error({ err: String(err) }, "a room event listener failed");
    }
  }
}
