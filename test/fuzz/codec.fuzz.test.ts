// Fuzzing decodeCommand with arbitrary text and JSON, against a reference model of the contract.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Command } from "../../src/protocol/index.js";
import { decodeCommand, DecodeError, encodeCommand, ErrorCode } from "../../src/protocol/index.js";
import { checkProperty, fuzzTimeout } from "./support/fuzz-settings.js";

/** Each command's fields as docs/protocol.md defines them. */
interface FieldSpec {
  /** strings that must be present */
  required: readonly string[];
  /** strings that may be absent; present and not a string is a BAD_COMMAND */
  optional: readonly string[];
  /** kept when of an accepted type, silently dropped otherwise */
  lenient: Readonly<Record<string, (v: unknown) => boolean>>;
  /**
   * numbers checked in this order after the strings: absent, or valid (kept), else the code;
   * `offset` is a whole number >= 0 (BAD_OFFSET), `count` a whole number >= 1 (BAD_LIMIT)
   */
  numbers?: ReadonlyArray<readonly [string, "offset" | "count"]>;
  /** strings made storable (U+0000 and lone surrogates to U+FFFD, docs/protocol.md) */
  storable?: readonly string[];
  /** fields that may not be given together (BAD_COMMAND) */
  exclusive?: readonly [string, string];
}

const finiteNumber = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v);

const SPEC: Readonly<Record<string, FieldSpec>> = {
  join_room: {
    required: ["r"],
    optional: ["e"],
    lenient: {},
    numbers: [
      ["o", "offset"],
      ["b", "count"],
    ],
  },
  history: {
    required: ["r"],
    optional: [],
    lenient: {},
    numbers: [
      ["before", "offset"],
      ["after", "offset"],
      ["l", "count"],
    ],
    exclusive: ["before", "after"],
  },
  leave_room: { required: ["r"], optional: [], lenient: {} },
  list_members: { required: ["r"], optional: [], lenient: {} },
  send_message: { required: ["r", "c"], optional: ["cid"], lenient: {}, storable: ["c", "cid"] },
  quit: { required: [], optional: [], lenient: {} },
  list_rooms: { required: [], optional: [], lenient: {} },
  hello: {
    required: [],
    optional: ["n", "k", "tok"],
    lenient: { v: finiteNumber },
    storable: ["k"],
  },
  set_name: { required: ["n"], optional: [], lenient: {} },
  ping: {
    required: [],
    optional: [],
    lenient: { t: (v) => typeof v === "string" || finiteNumber(v) },
  },
};
const KNOWN = Object.keys(SPEC);
const CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

type Expected = { command: Record<string, unknown> } | { code: string; cmd?: string };

/** What decodeCommand must return for `text`, derived from SPEC alone. */
function expected(text: string): Expected {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { code: ErrorCode.BAD_JSON };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { code: ErrorCode.BAD_COMMAND };
  }
  const o = raw as Record<string, unknown>;
  const ct = o._ct;
  if (typeof ct !== "string") return { code: ErrorCode.BAD_COMMAND };
  if (!Object.hasOwn(SPEC, ct)) return { code: ErrorCode.UNKNOWN_COMMAND, cmd: ct };
  const spec = SPEC[ct]!;
  const command: Record<string, unknown> = { _ct: ct };
  for (const k of spec.required) {
    if (typeof o[k] !== "string") return { code: ErrorCode.BAD_COMMAND, cmd: ct };
    command[k] = o[k];
  }
  for (const k of spec.optional) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== "string") return { code: ErrorCode.BAD_COMMAND, cmd: ct };
    command[k] = o[k];
  }
  // join_room validates its strings in field order: r, then o, then e, then b
  const order = ct === "join_room" ? ["o", "e", "b"] : [...(spec.numbers ?? []).map(([k]) => k)];
  for (const k of order) {
    const num = spec.numbers?.find(([name]) => name === k);
    const v = o[k];
    if (num === undefined) {
      if (v === undefined) continue;
      if (typeof v !== "string") return { code: ErrorCode.BAD_COMMAND, cmd: ct };
      command[k] = v;
      continue;
    }
    if (v === undefined) continue;
    const min = num[1] === "offset" ? 0 : 1;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
      return { code: num[1] === "offset" ? ErrorCode.BAD_OFFSET : ErrorCode.BAD_LIMIT, cmd: ct };
    }
    if (
      spec.exclusive !== undefined &&
      k === spec.exclusive[1] &&
      o[spec.exclusive[0]] !== undefined
    ) {
      return { code: ErrorCode.BAD_COMMAND, cmd: ct };
    }
    command[k] = v;
  }
  for (const [k, ok] of Object.entries(spec.lenient)) if (ok(o[k])) command[k] = o[k];
  for (const k of spec.storable ?? []) {
    if (typeof command[k] === "string") command[k] = storable(command[k]);
  }
  return { command };
}

/** U+0000 and lone surrogates as U+FFFD, as every stored text is (docs/protocol.md). */
function storable(t: string): string {
  return t.replace(/[\0\p{Cs}]/gu, "\uFFFD");
}

/** Checks one decodeCommand result against the model and the types. */
function checkDecode(text: string): Command | DecodeError {
  const got = decodeCommand(text);
  const want = expected(text);
  if (got instanceof DecodeError) {
    assert.ok(CODES.has(got.code), `unstable code ${got.code}`);
    assert.equal(typeof got.message, "string");
    assert.ok(got.message.length > 0);
    assert.deepEqual({ code: got.code, ...(got.cmd !== undefined && { cmd: got.cmd }) }, want);
  } else {
    assert.ok(!(got instanceof Error));
    assert.deepEqual({ command: { ...got } }, want);
  }
  return got;
}

/** JSON number literals, including ones beyond a double's range (1e999 parses as Infinity). */
const numberLiteral = fc.oneof(
  fc.double().map(String),
  fc.integer().map(String),
  fc.constantFrom("1e999", "-1e999", "-0", "0", "5e-324", "1e-400", "9007199254740993", "1E2"),
);

/** JSON value texts for a command field: anything JSON, numbers, strings, command names. */
const valueText = fc.oneof(
  fc.json({ depthSize: "small" }),
  numberLiteral,
  fc.string({ unit: "binary", maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.constantFrom(...KNOWN, "").map((s) => JSON.stringify(s)),
);

const FIELD_NAMES = [
  "_ct",
  "r",
  "c",
  "o",
  "e",
  "b",
  "before",
  "after",
  "l",
  "cid",
  "n",
  "k",
  "v",
  "t",
  "extra",
  "__proto__",
  "constructor",
];

/** Objects shaped like commands: known and unknown `_ct`, every field name, values of every type, repeated keys. */
const commandText = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(...KNOWN),
      fc.constantFrom("nope", "toString", "__proto__", "constructor", "hasOwnProperty", "", "QUIT"),
    ),
    fc.array(
      fc.tuple(fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 4 })), valueText),
      { maxLength: 6 },
    ),
    fc.nat(),
  )
  .map(([ct, members, at]) => {
    const parts = members.map(([k, v]) => `${JSON.stringify(k)}:${v}`);
    parts.splice(at % (parts.length + 1), 0, `"_ct":${JSON.stringify(ct)}`);
    return `{${parts.join(",")}}`;
  });

/** A text with one random edit: a character inserted, removed or replaced. */
const mutatedText = fc
  .tuple(commandText, fc.nat(), fc.nat({ max: 2 }), fc.string({ unit: "binary", maxLength: 2 }))
  .map(([text, at, cut, insert]) => {
    const i = at % (text.length + 1);
    return text.slice(0, i) + insert + text.slice(i + cut);
  });

const anyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.json(),
  commandText,
  mutatedText,
);

const text = fc.string({ unit: "binary", maxLength: 16 });
/** Numbers JSON carries exactly: finite, and -0 is written as 0. */
const jsonNumber = fc
  .oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer())
  .map((x) => (x === 0 ? 0 : x));

/** Every command the protocol types allow, optional fields present or not. */
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record(
    { _ct: fc.constantFrom("join_room", "leave_room", "list_members"), r: text },
    { noNullPrototype: true },
  ),
  fc.record(
    { _ct: fc.constant("send_message"), r: text, c: text, cid: text },
    { requiredKeys: ["_ct", "r", "c"], noNullPrototype: true },
  ),
  fc.record({ _ct: fc.constantFrom("quit", "list_rooms") }, { noNullPrototype: true }),
  fc.record(
    { _ct: fc.constant("hello"), v: jsonNumber, n: text, k: text },
    { requiredKeys: ["_ct"], noNullPrototype: true },
  ),
  fc.record({ _ct: fc.constant("set_name"), n: text }, { noNullPrototype: true }),
  fc.record(
    { _ct: fc.constant("join_room"), r: text, o: fc.nat(), e: text, b: fc.integer({ min: 1 }) },
    { requiredKeys: ["_ct", "r"], noNullPrototype: true },
  ),
  fc.oneof(
    fc.record(
      { _ct: fc.constant("history"), r: text, before: fc.nat(), l: fc.integer({ min: 1 }) },
      { requiredKeys: ["_ct", "r"], noNullPrototype: true },
    ),
    fc.record(
      { _ct: fc.constant("history"), r: text, after: fc.nat(), l: fc.integer({ min: 1 }) },
      { requiredKeys: ["_ct", "r"], noNullPrototype: true },
    ),
  ),
  fc.record(
    { _ct: fc.constant("ping"), t: fc.oneof(text, jsonNumber) },
    { requiredKeys: ["_ct"], noNullPrototype: true },
  ),
);

describe("decodeCommand under fuzzing", { timeout: fuzzTimeout(60_000) }, () => {
  it("drops a number field JSON cannot carry back (1e999 is Infinity), as it drops a wrongly typed one", () => {
    assert.deepEqual(decodeCommand('{"_ct":"ping","t":1e999}'), { _ct: "ping" });
    assert.deepEqual(decodeCommand('{"_ct":"ping","t":-1e999}'), { _ct: "ping" });
    assert.deepEqual(decodeCommand('{"_ct":"hello","v":1e999}'), { _ct: "hello" });
    assert.deepEqual(decodeCommand('{"_ct":"ping","t":12.5}'), { _ct: "ping", t: 12.5 });
  });

  it("never throws on any text and returns the command or the coded error the protocol defines", async () => {
    await checkProperty(
      fc.property(anyText, (t) => void checkDecode(t)),
      0x1f00_0201,
      3_000,
    );
  });

  it("never throws on the JSON of any value (fc.anything) and returns the command or coded error the protocol defines", async () => {
    const value = fc.oneof(
      fc.anything(),
      fc.record({ _ct: fc.constantFrom(...KNOWN), r: fc.anything(), c: fc.anything() }),
      fc.record({
        _ct: fc.constantFrom("join_room", "history"),
        r: fc.string(),
        o: fc.oneof(fc.integer(), fc.double(), fc.string()),
        before: fc.oneof(fc.integer(), fc.anything()),
        after: fc.oneof(fc.nat(), fc.anything()),
        l: fc.oneof(fc.integer(), fc.anything()),
        b: fc.oneof(fc.integer(), fc.anything()),
      }),
      fc.dictionary(fc.constantFrom(...FIELD_NAMES), fc.anything()),
    );
    await checkProperty(
      fc.property(value, (v) => {
        const t = JSON.stringify(v) as string | undefined;
        if (t !== undefined) checkDecode(t);
      }),
      0x1f00_0202,
      2_000,
    );
  });

  it("round-trips every command of the protocol types through encodeCommand and decodeCommand, text made storable", async () => {
    await checkProperty(
      fc.property(command, (cmd) => {
        const want: Record<string, unknown> = { ...cmd };
        for (const k of SPEC[cmd._ct]!.storable ?? []) {
          if (typeof want[k] === "string") want[k] = storable(want[k]);
        }
        assert.deepEqual(decodeCommand(encodeCommand(cmd)), want);
      }),
      0x1f00_0203,
      2_000,
    );
  });

  it("decodes whatever it decoded once to the same JSON again: decode, encode, decode is stable", async () => {
    await checkProperty(
      fc.property(fc.oneof(commandText, mutatedText), (t) => {
        const first = decodeCommand(t);
        if (first instanceof DecodeError) return;
        const again = decodeCommand(encodeCommand(first));
        assert.ok(!(again instanceof DecodeError), `re-decoding failed: ${encodeCommand(first)}`);
        assert.equal(encodeCommand(again), encodeCommand(first));
      }),
      0x1f00_0204,
      3_000,
    );
  });
});
