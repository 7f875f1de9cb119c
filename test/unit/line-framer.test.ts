import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FrameError, LineFramer } from "../../src/protocol/index.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function drain(f: LineFramer): Array<string | FrameError> {
  const out: Array<string | FrameError> = [];
  for (let x = f.next(); x !== undefined; x = f.next()) out.push(x);
  return out;
}

describe("LineFramer", () => {
  it("splits coalesced lines ended by \\n or \\r\\n", () => {
    const f = new LineFramer();
    f.push(enc('{"a":1}\r\n{"b":2}\n{"c":3}\r\n'));
    assert.deepEqual(drain(f), ['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it("reassembles a line fragmented over many chunks, even inside \\r\\n and multi-byte characters", () => {
    const f = new LineFramer();
    const bytes = enc("héllo wörld ✓\r\nnext\n");
    const out: Array<string | FrameError> = [];
    for (const b of bytes) {
      f.push(Uint8Array.of(b));
      out.push(...drain(f));
    }
    assert.deepEqual(out, ["héllo wörld ✓", "next"]);
  });

  it("keeps an unterminated tail until its end arrives", () => {
    const f = new LineFramer();
    f.push(enc("abc"));
    assert.equal(f.next(), undefined);
    assert.equal(f.buffered, 3);
    f.push(enc("def\n"));
    assert.equal(f.next(), "abcdef");
    assert.equal(f.buffered, 0);
  });

  it("skips empty lines", () => {
    const f = new LineFramer();
    f.push(enc("\r\n\n\r\nx\n\n"));
    assert.deepEqual(drain(f), ["x"]);
  });

  it("reports a line over the limit as a fatal FRAME_TOO_LARGE, terminated or not", () => {
    const f = new LineFramer(8);
    f.push(enc("123456789\n"));
    const e = f.next();
    assert.ok(e instanceof FrameError && e.fatal && e.code === "FRAME_TOO_LARGE");
    const g = new LineFramer(8);
    g.push(enc("1234"));
    assert.equal(g.next(), undefined);
    g.push(enc("56789"));
    const e2 = g.next();
    assert.ok(e2 instanceof FrameError && e2.fatal);
  });

  it("accepts a line of exactly the limit, \\r excluded", () => {
    const f = new LineFramer(8);
    f.push(enc("12345678\r\n"));
    assert.equal(f.next(), "12345678");
  });

  it("reports invalid UTF-8 as a non-fatal BAD_ENCODING and carries on with the next line", () => {
    const f = new LineFramer();
    f.push(Uint8Array.of(0x61, 0xff, 0x62, 0x0a, 0x63, 0x0a));
    const [bad, good] = drain(f);
    assert.ok(bad instanceof FrameError && !bad.fatal && bad.code === "BAD_ENCODING");
    assert.equal(good, "c");
  });

  it("yields the same lines however the stream is cut (property)", () => {
    const line = fc
      .string({ unit: "grapheme", maxLength: 40 })
      .map((s) => s.replace(/[\r\n]/g, ""))
      .filter((s) => s.length > 0);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(line, fc.boolean()), { maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 50 }),
        (lines, cuts) => {
          const bytes = enc(lines.map(([l, crlf]) => l + (crlf ? "\r\n" : "\n")).join(""));
          const f = new LineFramer(1024);
          const out: Array<string | FrameError> = [];
          let pos = 0;
          for (let i = 0; pos < bytes.length; i++) {
            const n = cuts[i % cuts.length]!;
            f.push(bytes.subarray(pos, pos + n));
            pos += n;
            out.push(...drain(f));
          }
          assert.deepEqual(
            out,
            lines.map(([l]) => l),
          );
          assert.equal(f.buffered, 0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
