import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodeLengthPrefixed,
  FrameError,
  LengthPrefixedFramer,
} from "../../src/protocol/index.js";

function drain(f: LengthPrefixedFramer): Array<string | FrameError> {
  const out: Array<string | FrameError> = [];
  for (let x = f.next(); x !== undefined; x = f.next()) out.push(x);
  return out;
}

describe("LengthPrefixedFramer", () => {
  it("reads coalesced frames", () => {
    const f = new LengthPrefixedFramer();
    f.push(Buffer.concat([encodeLengthPrefixed('{"a":1}'), encodeLengthPrefixed("ü✓")]));
    assert.deepEqual(drain(f), ['{"a":1}', "ü✓"]);
  });

  it("waits for a fragmented length and payload", () => {
    const f = new LengthPrefixedFramer();
    const bytes = encodeLengthPrefixed("hello");
    f.push(bytes.subarray(0, 2));
    assert.equal(f.next(), undefined);
    f.push(bytes.subarray(2, 6));
    assert.equal(f.next(), undefined);
    f.push(bytes.subarray(6));
    assert.equal(f.next(), "hello");
  });

  it("rejects a zero length as a fatal BAD_LENGTH", () => {
    const f = new LengthPrefixedFramer();
    f.push(Uint8Array.of(0, 0, 0, 0));
    const e = f.next();
    assert.ok(e instanceof FrameError && e.fatal && e.code === "BAD_LENGTH");
  });

  it("rejects a length over the limit before its payload arrives", () => {
    const f = new LengthPrefixedFramer(100);
    f.push(Uint8Array.of(0, 0, 0, 101));
    const e = f.next();
    assert.ok(e instanceof FrameError && e.fatal && e.code === "FRAME_TOO_LARGE");
    const g = new LengthPrefixedFramer(100);
    g.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff));
    assert.ok(g.next() instanceof FrameError);
  });

  it("reports invalid UTF-8 in a payload as non-fatal", () => {
    const f = new LengthPrefixedFramer();
    f.push(Uint8Array.of(0, 0, 0, 1, 0xff));
    f.push(encodeLengthPrefixed("ok"));
    const [bad, good] = drain(f);
    assert.ok(bad instanceof FrameError && !bad.fatal && bad.code === "BAD_ENCODING");
    assert.equal(good, "ok");
  });

  it("yields the same frames however the stream is cut (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 60 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 20 }),
        (payloads, cuts) => {
          const bytes = Buffer.concat(payloads.map(encodeLengthPrefixed));
          const f = new LengthPrefixedFramer();
          const out: Array<string | FrameError> = [];
          let pos = 0;
          for (let i = 0; pos < bytes.length; i++) {
            const n = cuts[i % cuts.length]!;
            f.push(bytes.subarray(pos, pos + n));
            pos += n;
            out.push(...drain(f));
          }
          assert.deepEqual(out, payloads);
        },
      ),
      { numRuns: 300 },
    );
  });
});
