import { PAYLOAD_FIELD } from "../payload.js";
import type { LinkSink } from "./link.js";

const ET = '"_et":"';
const U = 117; // u: user_message, user_joined_room, user_renamed
const M = 109; // m: user_message
const J = 106; // j: user_joined_room
const L = 108; // l: login_successful
const E = 101; // e: error
const S = 115; // s: slow_down
const D = 100; // d: disconnect

/**
 * Classifies one JSON event held in `s` between `from` and `to` (exclusive) by peeking at the
 * characters of its `_et` value, without parsing the JSON or copying the text: the load generator
 * reads every delivery, and must not be the bottleneck. Events of no interest (room_participation,
 * user_renamed, welcome ...) are skipped after one indexOf. Works whatever the field order.
 */
export function scanEvent(
  s: string,
  from: number,
  to: number,
  nowMs: number,
  sink: LinkSink,
  wantRooms: boolean,
): void {
  const et = s.indexOf(ET, from);
  if (et < 0 || et >= to) return;
  const t = et + ET.length;
  const c0 = s.charCodeAt(t);
  if (c0 === U) {
    const c5 = s.charCodeAt(t + 5);
    if (c5 === M) {
      const p = s.indexOf(PAYLOAD_FIELD, from);
      if (p >= 0 && p < to) sink.onDelivery(s, p + PAYLOAD_FIELD.length, nowMs);
    } else if (c5 === J) {
      sink.onJoined(utf8(stringField(s, from, to, '"r":"') ?? ""));
    }
  } else if (c0 === L) {
    sink.onLogin(wantRooms ? roomsOf(utf8(s.slice(from, to))) : undefined);
  } else if (c0 === E || c0 === S || c0 === D) {
    const type = s.slice(t, s.indexOf('"', t));
    if (type === "error" || type === "slow_down" || type === "disconnect") {
      sink.onTrouble(type, stringField(s, from, to, '"code":"') ?? "");
    }
  }
}

/**
 * Links decode input as latin1 (a copy, no UTF-8 work on the hot path); the rare text that is
 * kept (room names) is turned back into the UTF-8 the server sent.
 */
function utf8(latin1: string): string {
  for (let i = 0; i < latin1.length; i++) {
    if (latin1.charCodeAt(i) > 127) return Buffer.from(latin1, "latin1").toString("utf8");
  }
  return latin1;
}

/** The value of a string field without escapes (room names, codes), or undefined. */
function stringField(s: string, from: number, to: number, key: string): string | undefined {
  const k = s.indexOf(key, from);
  if (k < 0 || k >= to) return undefined;
  const start = k + key.length;
  const end = s.indexOf('"', start);
  return end < 0 || end > to ? undefined : s.slice(start, end);
}

/** Room names listed by a login_successful event (rare: parsed with JSON.parse). */
export function roomsOf(json: string): string[] | undefined {
  try {
    const ev = JSON.parse(json) as { rs?: unknown };
    if (!Array.isArray(ev.rs)) return undefined;
    return ev.rs
      .map((r) => (r as { n?: unknown }).n)
      .filter((n): n is string => typeof n === "string");
  } catch {
    return undefined;
  }
}
