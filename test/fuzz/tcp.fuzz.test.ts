// End-to-end fuzzing of the TCP line and length-prefixed ports with raw bytes cut at random.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { isUtf8 } from "node:buffer";
import fc from "fast-check";
import type { App } from "../../src/app.js";
import type { Event } from "../../src/protocol/index.js";
import { decodeEvent, encodeLengthPrefixed } from "../../src/protocol/index.js";
import { startTestApp } from "../e2e/support/test-app.js";
import {
  isQuit,
  MAX_BYTES,
  messageText,
  optsIn,
  probeCommand,
  ROOM,
} from "./support/chat-input.js";
import {
  bytePiece,
  checkProperty,
  concatBytes,
  cutAt,
  fuzzTimeout,
  INVALID_UTF8,
} from "./support/fuzz-settings.js";
import { Observer } from "./support/observer.js";
import { RawPeer } from "./support/raw-peer.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const LF = 10;
const CR = 13;

/**
 * What the server must make of a whole input stream, which ends with the probe: it answers the
 * probe, or closes first because of a quit or a fatal frame; or (length-prefixed only) the probe
 * is swallowed by an unfinished frame and nothing is due.
 */
type Outcome =
  { kind: "probe" | "quit" | "swallowed" } | { kind: "fatal"; error: string; disconnect: string };

interface Expectation {
  outcome: Outcome;
  /** whether the connection has opted in to extension events when the outcome happens */
  extended: boolean;
}

interface WireFraming {
  name: string;
  port(app: App): number;
  /** one command as this framing sends it */
  frame(text: string): Uint8Array;
  /** the probe, made to start a fresh frame whatever came before when the framing allows it */
  probe(token: string): Uint8Array;
  /** the reference model: what the server does with `bytes` (probe included) */
  expect(bytes: Uint8Array, probe: string, extended: boolean): Expectation;
  /** the server's output read strictly: every frame a JSON event; `partial` bytes left over */
  read(bytes: Buffer): { events: Event[]; partial: number };
  /** the fuzz input, as pieces */
  input: fc.Arbitrary<Uint8Array[]>;
}

const TOO_LARGE: Outcome = {
  kind: "fatal",
  error: "FRAME_TOO_LARGE",
  disconnect: "FRAME_TOO_LARGE",
};

/** Runs of bytes around the limit, with or without a line end. */
const nearLimit = fc
  .tuple(
    fc.integer({ min: MAX_BYTES - 1, max: MAX_BYTES + 2 }),
    fc.constantFrom("", "\n", "\r", "\r\n"),
  )
  .map(([n, end]) => concatBytes([new Uint8Array(n).fill(0x61), enc(end)]));

const lineFraming: WireFraming = {
  name: "line",
  port: (app) => app.ports.tcp!,
  frame: (text) => enc(text + "\r\n"),
  // the leading LF ends whatever unterminated line the fuzz left
  probe: (token) => enc(`\n${probeCommand(token)}\r\n`),
  expect(bytes, probe, extended) {
    let pos = 0;
    for (;;) {
      const nl = bytes.indexOf(LF, pos);
      assert.notEqual(nl, -1, "the probe ends the stream with a line end");
      let line = bytes.subarray(pos, nl);
      pos = nl + 1;
      if (line.at(-1) === CR) line = line.subarray(0, -1);
      if (line.length === 0) continue;
      if (line.length > MAX_BYTES) return { outcome: TOO_LARGE, extended };
      if (!isUtf8(line)) continue;
      const text = Buffer.from(line).toString("utf8");
      if (pos === bytes.length && text === probe) return { outcome: { kind: "probe" }, extended };
      if (isQuit(text)) return { outcome: { kind: "quit" }, extended };
      extended ||= optsIn(text);
    }
  },
  read(bytes) {
    const events: Event[] = [];
    let pos = 0;
    for (let end = bytes.indexOf("\r\n", pos); end !== -1; end = bytes.indexOf("\r\n", pos)) {
      const text = bytes.subarray(pos, end).toString("utf8");
      const ev = decodeEvent(text);
      assert.ok(ev && !text.includes("\n"), `not an event line: ${text}`);
      events.push(ev);
      pos = end + 2;
    }
    return { events, partial: bytes.length - pos };
  },
  input: fc.array(
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .tuple(messageText(true), fc.constantFrom("\n", "\r\n"))
          .map(([t, e]) => enc(t + e)),
      },
      { weight: 2, arbitrary: bytePiece },
      { weight: 1, arbitrary: nearLimit },
      {
        weight: 1,
        arbitrary: fc.constantFrom(...INVALID_UTF8).map((b) => concatBytes([b, enc("\n")])),
      },
    ),
    { maxLength: 12 },
  ),
};

function header(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, false);
  return b;
}

const lpFraming: WireFraming = {
  name: "length-prefixed",
  port: (app) => app.ports.lp!,
  frame: (text) => encodeLengthPrefixed(text),
  probe: (token) => encodeLengthPrefixed(probeCommand(token)),
  expect(bytes, probe, extended) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let pos = 0;
    while (bytes.length - pos >= 4) {
      const len = view.getUint32(pos, false);
      if (len === 0) {
        return {
          outcome: { kind: "fatal", error: "BAD_LENGTH", disconnect: "PROTOCOL_ERROR" },
          extended,
        };
      }
      if (len > MAX_BYTES) return { outcome: TOO_LARGE, extended };
      if (bytes.length - pos - 4 < len) break;
      const payload = bytes.subarray(pos + 4, pos + 4 + len);
      pos += 4 + len;
      if (!isUtf8(payload)) continue;
      const text = Buffer.from(payload).toString("utf8");
      if (pos === bytes.length && text === probe) return { outcome: { kind: "probe" }, extended };
      if (isQuit(text)) return { outcome: { kind: "quit" }, extended };
      extended ||= optsIn(text);
    }
    return { outcome: { kind: "swallowed" }, extended };
  },
  read(bytes) {
    const events: Event[] = [];
    let pos = 0;
    while (bytes.length - pos >= 4 && bytes.length - pos - 4 >= bytes.readUInt32BE(pos)) {
      const len = bytes.readUInt32BE(pos);
      const payload = bytes.subarray(pos + 4, pos + 4 + len);
      assert.ok(len > 0 && isUtf8(payload), "an empty or non-UTF-8 frame");
      const ev = decodeEvent(payload.toString("utf8"));
      assert.ok(ev, `not an event: ${payload.toString("utf8")}`);
      events.push(ev);
      pos += 4 + len;
    }
    return { events, partial: bytes.length - pos };
  },
  input: fc.array(
    fc.oneof(
      { weight: 5, arbitrary: messageText(true).map((t) => encodeLengthPrefixed(t)) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(...INVALID_UTF8).map((b) => concatBytes([header(b.length), b])),
      },
      { weight: 1, arbitrary: fc.constant(header(0)) },
      {
        weight: 1,
        arbitrary: fc
          .oneof(
            fc.integer({ min: MAX_BYTES + 1, max: MAX_BYTES + 2 }),
            fc.integer({ min: MAX_BYTES + 1 }),
          )
          .map(header),
      },
      { weight: 1, arbitrary: bytePiece },
      {
        // a frame cut short: it takes what follows as its payload
        weight: 1,
        arbitrary: fc
          .integer({ min: 1, max: MAX_BYTES })
          .chain((n) =>
            fc
              .uint8Array({ maxLength: Math.min(n - 1, 16) })
              .map((p) => concatBytes([header(n), p])),
          ),
      },
    ),
    { maxLength: 10 },
  ),
};

/**
 * The same properties on a server with its default rate and on one that holds input back after 2
 * commands (100/s): then frames wait in the framer and the kernel while reading is paused, and
 * the outcome must not change, only come later.
 */
const VARIANTS = [
  { title: "TCP ports under fuzzing", limits: {}, runs: 100, seed: 0x1f00_0401 },
  {
    title: "TCP ports under fuzzing, with input held back by the rate limit",
    limits: { ratePerSec: 100, rateBurst: 2 },
    runs: 40,
    seed: 0x1f00_0411,
  },
];

for (const variant of VARIANTS)
  describe(variant.title, { timeout: fuzzTimeout(120_000) }, () => {
    let app: App;
    let observer: Observer;
    let caseNo = 0;

    before(async () => {
      app = await startTestApp({ limits: { maxLineBytes: MAX_BYTES, ...variant.limits } });
      observer = await Observer.join(app);
    });
    after(async () => {
      observer?.close();
      await app?.stop();
    });

    function property(framing: WireFraming): fc.IAsyncProperty<[boolean, Uint8Array[], number[]]> {
      return fc.asyncProperty(
        fc.boolean(),
        framing.input,
        fc.array(fc.nat(), { maxLength: 12 }),
        async (hello, pieces, cuts) => {
          const label = `${framing.name} case ${++caseNo}`;
          const peer = await RawPeer.connect(framing.port(app));
          const events = (): Event[] => framing.read(peer.received).events;
          try {
            await peer.until("login_successful", () => events().length >= 1);
            if (hello) {
              peer.socket.write(framing.frame(JSON.stringify({ _ct: "hello", v: 1 })));
              await peer.until("welcome", () => events().some((e) => e._et === "welcome"));
            }
            peer.socket.write(framing.frame(JSON.stringify({ _ct: "join_room", r: ROOM })));
            await peer.until("the join", () =>
              events().some((e) => e._et === "user_joined_room" && e.r === ROOM),
            );
            const before = events().length;

            const token = `probe ${caseNo}`;
            const bytes = concatBytes([...pieces, framing.probe(token)]);
            const { outcome, extended } = framing.expect(bytes, probeCommand(token), hello);
            await peer.writePieces(cutAt(bytes, cuts));

            const pong = (): boolean => events().some((e) => e._et === "pong" && e.t === token);
            if (outcome.kind === "probe") {
              await peer.until("the probe's pong", pong);
              peer.end();
            } else if (outcome.kind === "swallowed") {
              peer.end();
            }
            await peer.untilClosed(`the server to close after ${outcome.kind}`);

            const { events: all, partial } = framing.read(peer.received);
            assert.equal(partial, 0, "the server's last frame is cut");
            const fresh = all.slice(before);
            assert.equal(pong(), outcome.kind === "probe", "pong for the probe");
            const disconnects = fresh.filter((e) => e._et === "disconnect");
            if (outcome.kind === "fatal" && extended) {
              const [error, disconnect] = fresh.slice(-2);
              assert.ok(
                error?._et === "error" && error.code === outcome.error,
                `error ${outcome.error}`,
              );
              assert.ok(
                disconnect?._et === "disconnect" && disconnect.code === outcome.disconnect,
                `disconnect ${outcome.disconnect}`,
              );
              assert.equal(disconnects.length, 1);
            } else {
              assert.deepEqual(disconnects, []);
            }
            if (!extended)
              assert.ok(!fresh.some((e) => e._et === "error"), "an error to an original client");
          } finally {
            peer.destroy();
          }
          await observer.check(label);
        },
      );
    }

    it("line port: answers any bytes as the line contract says, and never stops serving a bystander", async () => {
      await checkProperty(property(lineFraming), variant.seed, variant.runs);
    });

    it("length-prefixed port: answers any bytes as the frame contract says, and never stops serving a bystander", async () => {
      await checkProperty(property(lpFraming), variant.seed + 1, variant.runs);
    });
  });

describe("line port: cases found by fuzzing", () => {
  let app: App;
  before(async () => {
    app = await startTestApp({ limits: { maxLineBytes: MAX_BYTES } });
  });
  after(async () => {
    await app?.stop();
  });

  it("accepts a line of exactly the limit whose CR and LF arrive in different reads", async () => {
    const peer = await RawPeer.connect(app.ports.tcp!);
    try {
      await peer.until(
        "login_successful",
        () => lineFraming.read(peer.received).events.length >= 1,
      );
      const ping = probeCommand("exactly the limit");
      const line = enc(ping + " ".repeat(MAX_BYTES - Buffer.byteLength(ping)) + "\r");
      await new Promise<void>((resolve) => peer.socket.write(line, () => resolve()));
      // the server reads the CR-ended chunk in its next poll phase, before the LF is written
      await new Promise((r) => setTimeout(r, 50));
      peer.socket.write("\n");
      const pong = (): boolean =>
        lineFraming.read(peer.received).events.some((e) => e._et === "pong");
      await peer.until("the pong or a close", () => pong() || peer.isClosed);
      assert.ok(pong() && !peer.isClosed, "closed instead of answering");
    } finally {
      peer.destroy();
    }
  });
});
