// Fuzzing LengthPrefixedFramer with arbitrary lengths and bytes (test/unit covers valid frames).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isUtf8 } from "node:buffer";
import fc from "fast-check";
import { ErrorCode, FrameError, LengthPrefixedFramer } from "../../src/protocol/index.js";
import {
  bytePiece,
  checkProperty,
  concatBytes,
  cutAt,
  fuzzTimeout,
  INVALID_UTF8,
} from "./support/fuzz-settings.js";

type Out = string | { code: string; fatal: boolean };

function view(x: string | FrameError): Out {
  return typeof x === "string" ? x : { code: x.code, fatal: x.fatal };
}

function header(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, false);
  return b;
}

/**
 * The contract, written independently of the framer: a 4-byte big-endian length, then that many
 * bytes; length 0 is a fatal BAD_LENGTH, above `max` a fatal FRAME_TOO_LARGE (both decided on the
 * header alone); a payload that is not UTF-8 is a non-fatal BAD_ENCODING; an incomplete frame
 * stays buffered. `buffered` is undefined after a fatal error.
 */
function model(bytes: Uint8Array, max: number): { frames: Out[]; buffered: number | undefined } {
  const frames: Out[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  while (bytes.length - pos >= 4) {
    const len = view.getUint32(pos, false);
    if (len === 0 || len > max) {
      frames.push({ code: len === 0 ? ErrorCode.BAD_LENGTH : "FRAME_TOO_LARGE", fatal: true });
      return { frames, buffered: undefined };
    }
    if (bytes.length - pos - 4 < len) break;
    const payload = bytes.subarray(pos + 4, pos + 4 + len);
    pos += 4 + len;
    frames.push(
      isUtf8(payload)
        ? Buffer.from(payload).toString("utf8")
        : { code: ErrorCode.BAD_ENCODING, fatal: false },
    );
  }
  return { frames, buffered: bytes.length - pos };
}

/** Feeds chunks, pulling after those `pullAfter` selects and at the end; stops at a fatal error. */
function feed(
  chunks: readonly Uint8Array[],
  max: number,
  pullAfter: readonly boolean[] = [],
): { frames: Out[]; buffered: number | undefined } {
  const f = new LengthPrefixedFramer(max);
  const frames: Out[] = [];
  const pull = (): boolean => {
    for (let x = f.next(); x !== undefined; x = f.next()) {
      frames.push(view(x));
      if (x instanceof FrameError && x.fatal) return true;
    }
    // at most a header and all but one byte of a payload no longer than max
    assert.ok(f.buffered <= max + 3, `buffered ${f.buffered} > max ${max} + 3`);
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

/** One frame of a stream: well-formed (valid or invalid UTF-8), length 0, over the limit, or raw bytes. */
function framePiece(max: number): fc.Arbitrary<Uint8Array> {
  const payload = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: Math.max(1, max) }),
    fc.string({ unit: "binary", minLength: 1, maxLength: max }).map((s) => Buffer.from(s)),
    fc.constantFrom(...INVALID_UTF8),
  );
  return fc.oneof(
    { weight: 6, arbitrary: payload.map((p) => concatBytes([header(p.length), p])) },
    { weight: 1, arbitrary: fc.constant(header(0)) },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          fc.integer({ min: max + 1, max: max + 3 }),
          fc.integer({ min: max + 1, max: 2 ** 32 - 1 }),
        )
        .map(header),
    },
    { weight: 1, arbitrary: bytePiece },
  );
}

/** A limit, a stream of frames, cut positions, and when to pull. Limits start at 1: 0 allows nothing. */
const stream = fc
  .integer({ min: 1, max: 40 })
  .chain((max) =>
    fc.tuple(
      fc.constant(max),
      fc.array(framePiece(max), { maxLength: 16 }).map(concatBytes),
      fc.array(fc.nat(), { maxLength: 16 }),
      fc.array(fc.boolean(), { maxLength: 8 }),
    ),
  );

describe("LengthPrefixedFramer under fuzzing", { timeout: fuzzTimeout(60_000) }, () => {
  it("gives the same frames and errors whether a stream comes whole or cut anywhere and pulled at any time", async () => {
    await checkProperty(
      fc.property(stream, ([max, bytes, cuts, pulls]) => {
        assert.deepEqual(feed(cutAt(bytes, cuts), max, pulls), feed([bytes], max));
      }),
      0x1f00_0101,
      1_000,
    );
  });

  it("follows the frame contract: length 0 and lengths over the limit are fatal, bad UTF-8 is skipped, a truncated frame stays buffered", async () => {
    await checkProperty(
      fc.property(stream, ([max, bytes, cuts, pulls]) => {
        assert.deepEqual(feed(cutAt(bytes, cuts), max, pulls), model(bytes, max));
      }),
      0x1f00_0102,
      1_000,
    );
  });

  it("keeps a truncated frame whole until its last byte arrives, then yields it once", async () => {
    await checkProperty(
      fc.property(
        fc.string({ unit: "binary", minLength: 1, maxLength: 64 }).map((s) => Buffer.from(s)),
        (payload) => {
          const f = new LengthPrefixedFramer(payload.length);
          const bytes = concatBytes([header(payload.length), payload]);
          for (let i = 0; i < bytes.length - 1; i++) {
            f.push(bytes.subarray(i, i + 1));
            assert.equal(f.next(), undefined);
            assert.equal(f.buffered, i + 1);
          }
          f.push(bytes.subarray(-1));
          assert.equal(f.next(), payload.toString("utf8"));
          assert.equal(f.next(), undefined);
          assert.equal(f.buffered, 0);
        },
      ),
      0x1f00_0103,
      300,
    );
  });

  it("never throws and stays within its memory bound when driven at random after fatal errors too", async () => {
    const op = fc.oneof(
      fc.record({ push: fc.oneof(bytePiece, framePiece(16), fc.uint8Array({ maxLength: 80 })) }),
      fc.constant({ pull: true as const }),
    );
    await checkProperty(
      fc.property(fc.integer({ min: 0, max: 32 }), fc.array(op, { maxLength: 60 }), (max, ops) => {
        const f = new LengthPrefixedFramer(max);
        let sincePull = 0;
        for (const o of ops) {
          if ("push" in o) {
            f.push(o.push);
            sincePull += o.push.length;
            assert.ok(f.buffered <= max + 3 + sincePull);
            continue;
          }
          for (let x = f.next(); x !== undefined; x = f.next()) {
            if (typeof x === "string") {
              assert.ok(Buffer.byteLength(x) >= 1 && Buffer.byteLength(x) <= max);
            } else {
              assert.ok(x instanceof FrameError);
              assert.ok(
                ((x.code === "FRAME_TOO_LARGE" || x.code === ErrorCode.BAD_LENGTH) && x.fatal) ||
                  (x.code === ErrorCode.BAD_ENCODING && !x.fatal),
              );
            }
          }
          sincePull = 0;
          assert.ok(f.buffered <= max + 3);
        }
      }),
      0x1f00_0104,
      2_000,
    );
  });
});
