import type { Event } from "./messages.js";
import { ORIGINAL_EVENTS } from "./messages.js";
import { encodeLengthPrefixed } from "./length-prefixed-framer.js";
import { encodeWebSocketTextFrame } from "./websocket-frame.js";
import { utf8Framed, utf8Length } from "./utf8.js";

/**
 * An event serialised once for every recipient and every transport: the JSON text is made at
 * construction, and each wire form (CRLF line, length-prefixed frame, WebSocket text frame) is
 * encoded to UTF-8 at most once, on first use, then the same bytes are written to every
 * connection of that framing. This is the "encode a broadcast once" half of the hot path: a
 * broadcast to N members costs one UTF-8 encoding per framing in use, not N.
 *
 * The cached forms live as long as the event (the log's tail keeps recent events for catch-up),
 * so each framing in use adds about the event's UTF-8 size to it.
 */
export class EncodedEvent {
  readonly json: string;
  /** true for event types only extension-aware connections may receive */
  readonly extension: boolean;
  private lineBytes: Uint8Array | undefined;
  private lpFrame: Uint8Array | undefined;
  private wsFrame: Uint8Array | undefined;
  private jsonBytes = -1;

  /** @param json the event's JSON when it is already known (received from another node) */
  constructor(
    readonly event: Event,
    json?: string,
  ) {
    this.json = json ?? JSON.stringify(event);
    this.extension = !ORIGINAL_EVENTS.has(event._et);
  }

  /**
   * The UTF-8 size of the JSON text, bytes: what queue bounds and byte counters charge per
   * recipient (plus the framing's few bytes). Measured once per event, from the line when it is
   * already encoded.
   */
  get byteLength(): number {
    if (this.jsonBytes < 0) {
      this.jsonBytes =
        this.lineBytes !== undefined ? this.lineBytes.length - 2 : utf8Length(this.json);
    }
    return this.jsonBytes;
  }

  /** The JSON text followed by CRLF, as the original server writes it, in UTF-8. */
  get line(): Uint8Array {
    return (this.lineBytes ??= encodeLine(this.json));
  }

  /** The JSON text as one 4-byte big-endian length-prefixed frame. */
  get lengthPrefixed(): Uint8Array {
    return (this.lpFrame ??= encodeLengthPrefixed(this.json));
  }

  /** The JSON text as one unmasked WebSocket text frame (for connections without compression). */
  get webSocketFrame(): Uint8Array {
    return (this.wsFrame ??= encodeWebSocketTextFrame(this.json));
  }
}

function encodeLine(json: string): Uint8Array {
  const out = utf8Framed(json, 0, 2);
  out[out.length - 2] = 0x0d;
  out[out.length - 1] = 0x0a;
  return out;
}
