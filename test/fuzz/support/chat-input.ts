/**
 * What a fuzzed client says in its well-formed lines and frames: commands of every type (valid
 * and not), arbitrary JSON, arbitrary text. Shared by the end-to-end fuzz tests of every transport.
 */
import fc from "fast-check";
import { decodeCommand, DecodeError } from "../../../src/protocol/index.js";

/** The room the observer and the fuzzed clients share. */
export const ROOM = "rust";
/** Largest line or frame the fuzzed server accepts (--max-line-bytes), small to make "over" cheap. */
export const MAX_BYTES = 1024;

const room = fc.constantFrom(ROOM, "general", "ai", "no-such-room", "");
const shortText = fc.string({ unit: "binary", maxLength: 24 });

/** A command object of any type, fields right or wrong; `quit` only when `withQuit`. */
function command(withQuit: boolean): fc.Arbitrary<object> {
  const commands: fc.Arbitrary<object>[] = [
    fc.record({ _ct: fc.constant("join_room"), r: room }),
    fc.record({ _ct: fc.constant("leave_room"), r: room }),
    fc.record(
      { _ct: fc.constant("send_message"), r: room, c: shortText, cid: shortText },
      { requiredKeys: ["_ct", "r", "c"] },
    ),
    fc.record({ _ct: fc.constant("list_rooms") }),
    fc.record({ _ct: fc.constant("list_members"), r: room }),
    fc.record({ _ct: fc.constant("set_name"), n: shortText }),
    fc.record(
      { _ct: fc.constant("hello"), v: fc.integer(), n: shortText },
      { requiredKeys: ["_ct"] },
    ),
    fc.record(
      { _ct: fc.constant("ping"), t: fc.oneof(shortText, fc.integer()) },
      {
        requiredKeys: ["_ct"],
      },
    ),
    fc.record({ _ct: fc.oneof(shortText, fc.integer()), r: fc.jsonValue() }, { requiredKeys: [] }),
  ];
  if (withQuit) commands.push(fc.constant({ _ct: "quit" }));
  return fc.oneof(...commands);
}

/** The text of one line or frame: mostly commands, some arbitrary JSON or text (never empty-safe). */
export function messageText(withQuit: boolean): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: command(withQuit).map((c) => JSON.stringify(c)) },
    { weight: 1, arbitrary: fc.json({ depthSize: "small" }) },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }) },
  );
}

/** Whether the server reads `text` as a quit. */
export function isQuit(text: string): boolean {
  const c = decodeCommand(text);
  return !(c instanceof DecodeError) && c._ct === "quit";
}

const EXTENSION_COMMANDS: ReadonlySet<string> = new Set([
  "hello",
  "set_name",
  "list_rooms",
  "list_members",
  "ping",
]);

/** Whether `text` opts the connection in to extension events (see docs/protocol.md). */
export function optsIn(text: string): boolean {
  const c = decodeCommand(text);
  return !(c instanceof DecodeError) && EXTENSION_COMMANDS.has(c._ct);
}

/** The ping that ends each fuzz case on a live connection: its pong proves the server still reads. */
export function probeCommand(token: string): string {
  return JSON.stringify({ _ct: "ping", t: token });
}
