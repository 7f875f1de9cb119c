import type { Event } from "./messages.js";
import { ORIGINAL_EVENTS } from "./messages.js";
import { encodeLengthPrefixed } from "./length-prefixed-framer.js";

/**
 * An event serialised once for every recipient and every transport: the JSON text is made at
 * construction, and each framing (line, length-prefixed) is derived at most once, on first use,
 * then shared by all connections of that framing. This is the "encode a broadcast once" half of
 * the hot path.
 */
export class EncodedEvent {
  readonly json: string;
  /** true for event types only extension-aware connections may receive */
  readonly extension: boolean;
  private lineText: string | undefined;
  private lpFrame: Uint8Array | undefined;

  /** @param json the event's JSON when it is already known (received from another node) */
  constructor(
    readonly event: Event,
    json?: string,
  ) {
    this.json = json ?? JSON.stringify(event);
    this.extension = !ORIGINAL_EVENTS.has(event._et);
  }

  /** The JSON text followed by CRLF, as the original server writes it. */
  get line(): string {
    return (this.lineText ??= this.json + "\r\n");
  }

  /** The JSON text as one 4-byte big-endian length-prefixed frame. */
  get lengthPrefixed(): Uint8Array {
    return (this.lpFrame ??= encodeLengthPrefixed(this.json));
  }
}
