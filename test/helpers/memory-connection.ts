import type { CloseReason, Connection } from "../../src/core/index.js";
import type { EncodedEvent, Event } from "../../src/protocol/index.js";
import { LineFramer } from "../../src/protocol/index.js";

/**
 * An in-memory Connection for unit tests of the core: records what the core sends and whether it
 * paused reading, with a settable backlog to play a slow reader. Transports are tested end to end
 * over real sockets elsewhere.
 */
export class MemoryConnection implements Connection {
  readonly transport = "tcp" as const;
  readonly framer = new LineFramer(1024);
  readonly sent: Event[] = [];
  /** bytes the "kernel" has not taken yet */
  backlog = 0;
  paused = false;
  closedWith: CloseReason | undefined;
  refusedWith: CloseReason | undefined;

  constructor(readonly remoteAddress = "10.0.0.1") {}

  send(event: EncodedEvent): void {
    this.sent.push(JSON.parse(event.json) as Event);
    this.backlog += event.json.length;
  }
  get bufferedBytes(): number {
    return this.backlog;
  }
  pauseReading(): void {
    this.paused = true;
  }
  resumeReading(): void {
    this.paused = false;
  }
  refuse(reason: CloseReason): void {
    this.refusedWith = reason;
  }
  close(reason: CloseReason): void {
    this.closedWith ??= reason;
  }
  /** Feeds command lines as if read from the socket. */
  input(...commands: object[]): void {
    this.framer.push(
      new TextEncoder().encode(commands.map((c) => JSON.stringify(c) + "\n").join("")),
    );
  }
  types(): string[] {
    return this.sent.map((e) => e._et);
  }
}
