// Fuzzing LineFramer with arbitrary bytes (test/unit/line-framer.test.ts covers valid lines).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isUtf8 } from "node:buffer";
import fc from "fast-check";
import { ErrorCode, FrameError, LineFramer } from "../../src/protocol/index.js";
import {
  bytePiece,
  checkProperty,
  concatBytes,
  cutAt,
  fuzzTimeout,
} from "./support/fuzz-settings.js";

const LF = 10;
const CR = 13;

/** A frame as compared: the text, or an error's code and fatality. */
type Out = string | { code: string; fatal: boolean };

function view(x: string | FrameError): Out {
  return typeof x === "string" ? x : { code: x.code, fatal: x.fatal };
}

/**
 * The contract, written independently of LineFramer: lines end at LF with one CR before it
 * dropped; empty lines are skipped; a line (or an unterminated tail, a trailing CR aside) longer
 * than `max` bytes is fatal and ends the stream; a line that is not UTF-8 is a non-fatal
 * BAD_ENCODING. Returns the frames and what stays buffered (undefined after a fatal error).
 */
function model(bytes: Uint8Array, max: number): { frames: Out[]; buffered: number | undefined } {
  const frames: Out[] = [];
  let pos = 0;
  for (;;) {
    const nl = bytes.indexOf(LF, pos);
    if (nl === -1) {
      const tail = bytes.subarray(pos);
      const content = tail.at(-1) === CR ? tail.length - 1 : tail.length;
      if (content > max) {
        frames.push({ code: "FRAME_TOO_LARGE", fatal: true });
        return { frames, buffered: undefined };
      }
      return { frames, buffered: tail.length };
    }
    let line = bytes.subarray(pos, nl);
    pos = nl + 1;
    if (line.at(-1) === CR) line = line.subarray(0, -1);
    if (line.length > max) {
      frames.push({ code: "FRAME_TOO_LARGE", fatal: true });
      return { frames, buffered: undefined };
    }
    if (line.length === 0) continue;
    frames.push(
      isUtf8(line)
        ? Buffer.from(line).toString("utf8")
        : { code: ErrorCode.BAD_ENCODING, fatal: false },
    );
  }
}

/**
 * Feeds `chunks` in order, pulling after the pushes `pullAfter` selects (and at the end), as a
 * session that is sometimes held back would. Stops at the first fatal error, as a transport does.
 * Checks the memory bound after every pull.
 */
function feed(
  chunks: readonly Uint8Array[],
  max: number,
  pullAfter: readonly boolean[] = [],
): { frames: Out[]; buffered: number | undefined } {
  const f = new LineFramer(max);
  const frames: Out[] = [];
  const pull = (): boolean => {
    for (let x = f.next(); x !== undefined; x = f.next()) {
      frames.push(view(x));
      if (x instanceof FrameError && x.fatal) return true;
    }
    // an unterminated tail of at most max bytes, plus the CR that may end it
    assert.ok(f.buffered <= max + 1, `buffered ${f.buffered} > max ${max} + 1`);
    return false;
  };
  for (let i = 0; i < chunks.length; i++) {
    f.push(chunks[i]!);
    if ((pullAfter[i % Math.max(1, pullAfter.length)] ?? true) && pull()) {
      return { frames, buffered: undefined };
    }
  }
  if (pull()) return { frames, buffered: undefined };
  return { frames, buffered: f.buffered };
}

/** A limit and a stream biased to sit around it: runs of max-1..max+2 bytes, CR, LF, CRLF. */
const stream = fc.integer({ min: 0, max: 24 }).chain((max) =>
  fc.tuple(
    fc.constant(max),
    fc
      .array(
        fc.oneof(
          bytePiece,
          fc.constantFrom(Uint8Array.of(LF), Uint8Array.of(CR), Uint8Array.of(CR, LF)),
          fc
            .integer({ min: Math.max(0, max - 1), max: max + 2 })
            .chain((n) => fc.constantFrom(0x61, 0xc3, CR).map((b) => new Uint8Array(n).fill(b))),
        ),
        { maxLength: 24 },
      )
      .map(concatBytes),
    fc.array(fc.nat(), { maxLength: 16 }),
    fc.array(fc.boolean(), { maxLength: 8 }),
  ),
);

describe("LineFramer under fuzzing", { timeout: fuzzTimeout(60_000) }, () => {
  it("accepts a line of exactly the limit ended by CRLF even when the CR and LF arrive apart", () => {
    const f = new LineFramer(8);
    f.push(new TextEncoder().encode("12345678\r"));
    assert.equal(f.next(), undefined);
    f.push(Uint8Array.of(LF));
    assert.equal(f.next(), "12345678");
  });

  it("gives the same frames and errors whether a stream comes whole or cut anywhere and pulled at any time", async () => {
    await checkProperty(
      fc.property(stream, ([max, bytes, cuts, pulls]) => {
        const whole = feed([bytes], max);
        const cut = feed(cutAt(bytes, cuts), max, pulls);
        assert.deepEqual(cut, whole);
      }),
      0x1f00_0001,
      2_000,
    );
  });

  it("follows the line contract: CRLF or LF ends a line, over the limit is fatal exactly when over, bad UTF-8 is skipped with a non-fatal error", async () => {
    await checkProperty(
      fc.property(stream, ([max, bytes, cuts, pulls]) => {
        assert.deepEqual(feed(cutAt(bytes, cuts), max, pulls), model(bytes, max));
      }),
      0x1f00_0002,
      2_000,
    );
  });

  it("round-trips any valid UTF-8 lines byte for byte, whatever the terminators and the cuts", async () => {
    const line = fc
      .string({ unit: "binary", minLength: 1, maxLength: 40 })
      .map((s) => s.replace(/[\r\n]/g, "").replace(/[\uD800-\uDFFF]/g, "\uFFFD"))
      .filter((s) => s.length > 0);
    await checkProperty(
      fc.property(
        fc.array(fc.tuple(line, fc.constantFrom("\n", "\r\n", "\r\n\n", "\n\r\n")), {
          maxLength: 20,
        }),
        fc.array(fc.nat(), { maxLength: 16 }),
        (lines, cuts) => {
          const bytes = new TextEncoder().encode(lines.map(([l, end]) => l + end).join(""));
          const max = Math.max(0, ...lines.map(([l]) => Buffer.byteLength(l)));
          assert.deepEqual(feed(cutAt(bytes, cuts), max), {
            frames: lines.map(([l]) => l),
            buffered: 0,
          });
        },
      ),
      0x1f00_0003,
      1_000,
    );
  });

  it("never throws and stays within its memory bound when driven at random after fatal errors too", async () => {
    const op = fc.oneof(
      fc.record({ push: fc.oneof(bytePiece, fc.uint8Array({ maxLength: 80 })) }),
      fc.constant({ pull: true as const }),
    );
    await checkProperty(
      fc.property(fc.integer({ min: 0, max: 32 }), fc.array(op, { maxLength: 60 }), (max, ops) => {
        const f = new LineFramer(max);
        let sincePull = 0;
        for (const o of ops) {
          if ("push" in o) {
            f.push(o.push);
            sincePull += o.push.length;
            assert.ok(f.buffered <= max + 1 + sincePull);
            continue;
          }
          for (let x = f.next(); x !== undefined; x = f.next()) {
            if (typeof x === "string") {
              assert.ok(x.length > 0 && !x.includes("\n"));
              assert.ok(Buffer.byteLength(x) <= max);
            } else {
              assert.ok(x instanceof FrameError);
              assert.ok(
                (x.code === "FRAME_TOO_LARGE" && x.fatal) ||
                  (x.code === ErrorCode.BAD_ENCODING && !x.fatal),
              );
            }
          }
          sincePull = 0;
          assert.ok(f.buffered <= max + 1);
        }
      }),
      0x1f00_0004,
      2_000,
    );
  });
});
