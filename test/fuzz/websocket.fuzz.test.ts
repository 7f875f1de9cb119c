// End-to-end fuzzing of the WebSocket endpoint with hand-built frames on a raw TCP socket.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { App } from "../../src/app.js";
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
  checkProperty,
  concatBytes,
  cutAt,
  fuzzTimeout,
  INVALID_UTF8,
} from "./support/fuzz-settings.js";
import { Observer } from "./support/observer.js";
import {
  closePayload,
  encodeFrame,
  isValidCloseCode,
  OP,
  openRawWebSocket,
  readServerStream,
} from "./support/ws-wire.js";

/** ws reads a message up to 4 × the limit, at least 1 MiB (websocket-transport.ts); above: 1009. */
const HARD_CAP = Math.max(4 * MAX_BYTES, 1 << 20);

/** One thing a fuzzed client does: some frames, and what the server must make of them. */
interface WsOp {
  /** short description, for counterexamples */
  kind: string;
  bytes: Uint8Array;
  /** close statuses the server may answer with (undefined: an empty close payload); absent: not fatal */
  fatal?: readonly (number | undefined)[];
  /** the disconnect event an extension client gets before the close */
  disconnect?: string;
  /** payloads of the well-formed pings in this op, each answered by a pong */
  pings: readonly Uint8Array[];
  /** the text of the message this op sends, when it is one */
  text?: string;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const mask = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ minLength: 4, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(4)) },
);
const controlPayload = fc.uint8Array({ maxLength: 125 });

/**
 * A data message as 1 to 4 frames (a first TEXT or BINARY, then CONTINUATIONs), with pings or
 * pongs between fragments.
 */
function message(
  opcode: number,
  payload: Uint8Array,
  withControls: boolean,
): fc.Arbitrary<{
  bytes: Uint8Array;
  pings: Uint8Array[];
}> {
  return fc
    .tuple(
      fc.array(fc.nat(), { maxLength: 3 }),
      fc.array(fc.option(fc.tuple(fc.boolean(), controlPayload), { freq: 2 }), { maxLength: 3 }),
      mask,
    )
    .map(([cuts, controls, key]) => {
      const parts = cutAt(payload, cuts);
      const frames: Uint8Array[] = [];
      const pings: Uint8Array[] = [];
      parts.forEach((part, i) => {
        frames.push(
          encodeFrame({
            opcode: i === 0 ? opcode : OP.CONT,
            fin: i === parts.length - 1,
            payload: part,
            mask: key,
          }),
        );
        const control = withControls && i < parts.length - 1 ? controls[i] : null;
        if (control) {
          const [isPing, p] = control;
          if (isPing) pings.push(p);
          frames.push(encodeFrame({ opcode: isPing ? OP.PING : OP.PONG, payload: p, mask: key }));
        }
      });
      return { bytes: concatBytes(frames), pings };
    });
}

const textOp: fc.Arbitrary<WsOp> = messageText(true)
  .filter((t) => Buffer.byteLength(t) <= MAX_BYTES)
  .chain((text) =>
    message(OP.TEXT, enc(text), true).map(({ bytes, pings }) =>
      isQuit(text)
        ? { kind: "quit", bytes, pings, text, fatal: [1000] }
        : { kind: "text", bytes, pings, text },
    ),
  );

const controlOp: fc.Arbitrary<WsOp> = fc
  .tuple(fc.boolean(), controlPayload, mask)
  .map(([isPing, payload, key]) => ({
    kind: isPing ? "ping" : "pong",
    bytes: encodeFrame({ opcode: isPing ? OP.PING : OP.PONG, payload, mask: key }),
    pings: isPing ? [payload] : [],
  }));

const fatal = (
  kind: string,
  codes: readonly (number | undefined)[],
  arb: fc.Arbitrary<Uint8Array>,
  disconnect?: string,
): fc.Arbitrary<WsOp> =>
  arb.map((bytes) => ({ kind, bytes, pings: [], fatal: codes, ...(disconnect && { disconnect }) }));

const badUtf8Text = fc
  .tuple(
    fc.string({ maxLength: 20 }),
    fc.constantFrom(...INVALID_UTF8),
    fc.string({ maxLength: 20 }),
  )
  .map(([a, bad, b]) => concatBytes([enc(a), bad, enc(b)]));

/** Frames that end the connection, each with the status the server must close with. */
const fatalOp: fc.Arbitrary<WsOp> = fc.oneof(
  fatal(
    "binary",
    [4008],
    fc
      .uint8Array({ maxLength: 64 })
      .chain((p) => message(OP.BINARY, p, false))
      .map((m) => m.bytes),
    "PROTOCOL_ERROR",
  ),
  fatal(
    "bad utf-8",
    [1007],
    badUtf8Text.chain((p) => message(OP.TEXT, p, false)).map((m) => m.bytes),
  ),
  fatal(
    "over the limit",
    [4001],
    fc
      .integer({ min: MAX_BYTES + 1, max: MAX_BYTES + 200 })
      .chain((n) => message(OP.TEXT, new Uint8Array(n).fill(0x61), false))
      .map((m) => m.bytes),
    "FRAME_TOO_LARGE",
  ),
  fatal(
    "over the hard cap (header only)",
    [1009],
    fc
      .tuple(
        fc.oneof(
          fc.bigInt({ min: BigInt(HARD_CAP + 1), max: 2n ** 32n }),
          fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }),
        ),
        fc.constantFrom(OP.TEXT, OP.BINARY),
        mask,
      )
      .map(([announced, opcode, key]) =>
        encodeFrame({ opcode, payload: new Uint8Array(0), mask: key, announced }),
      ),
  ),
  fatal(
    "unmasked",
    [1002],
    fc
      .string({ maxLength: 20 })
      .map((s) => encodeFrame({ opcode: OP.TEXT, payload: enc(s), mask: undefined })),
  ),
  fatal(
    "reserved bits",
    [1002],
    fc
      .tuple(
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom(OP.TEXT, OP.BINARY, OP.PING, OP.CONT),
        mask,
      )
      .map(([rsv, opcode, key]) => encodeFrame({ opcode, rsv, payload: enc("{}"), mask: key })),
  ),
  fatal(
    "reserved opcode",
    [1002],
    fc
      .tuple(fc.constantFrom(3, 4, 5, 6, 7, 11, 12, 13, 14, 15), controlPayload, mask)
      .map(([opcode, payload, key]) => encodeFrame({ opcode, payload, mask: key })),
  ),
  fatal(
    "continuation with no message",
    [1002],
    fc
      .tuple(fc.boolean(), mask)
      .map(([fin, key]) => encodeFrame({ opcode: OP.CONT, fin, payload: enc("x"), mask: key })),
  ),
  fatal(
    "new message inside a fragmented one",
    [1002],
    fc
      .tuple(fc.constantFrom(OP.TEXT, OP.BINARY), mask)
      .map(([opcode, key]) =>
        concatBytes([
          encodeFrame({ opcode: OP.TEXT, fin: false, payload: enc("{"), mask: key }),
          encodeFrame({ opcode, payload: enc("}"), mask: key }),
        ]),
      ),
  ),
  fatal(
    "fragmented or oversized control frame",
    [1002],
    fc.oneof(
      fc
        .tuple(fc.constantFrom(OP.PING, OP.PONG, OP.CLOSE), mask)
        .map(([opcode, key]) =>
          encodeFrame({ opcode, fin: false, payload: new Uint8Array(0), mask: key }),
        ),
      fc
        .tuple(
          fc.constantFrom(OP.PING, OP.PONG, OP.CLOSE),
          fc.integer({ min: 126, max: 300 }),
          mask,
        )
        .map(([opcode, n, key]) => encodeFrame({ opcode, payload: new Uint8Array(n), mask: key })),
      mask.map((key) => encodeFrame({ opcode: OP.CLOSE, payload: Uint8Array.of(3), mask: key })),
    ),
  ),
  fc
    .tuple(
      fc.oneof(
        fc.constantFrom(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014),
        fc.integer({ min: 3000, max: 4999 }),
      ),
      fc.string({ maxLength: 30 }).filter((s) => Buffer.byteLength(s) <= 123),
      mask,
    )
    .map(([code, reason, key]): WsOp => ({
      kind: `close ${code}`,
      bytes: encodeFrame({ opcode: OP.CLOSE, payload: closePayload(code, enc(reason)), mask: key }),
      pings: [],
      fatal: [code],
    })),
  fatal(
    "close without a status",
    [undefined],
    mask.map((key) => encodeFrame({ opcode: OP.CLOSE, payload: new Uint8Array(0), mask: key })),
  ),
  fatal(
    "close with a status not allowed on the wire",
    [1002],
    fc
      .tuple(
        fc.integer({ min: 0, max: 0xffff }).filter((c) => !isValidCloseCode(c)),
        mask,
      )
      .map(([code, key]) =>
        encodeFrame({ opcode: OP.CLOSE, payload: closePayload(code), mask: key }),
      ),
  ),
  fatal(
    "close with a reason not UTF-8",
    [1007],
    fc
      .tuple(fc.constantFrom(...INVALID_UTF8), mask)
      .map(([bad, key]) =>
        encodeFrame({ opcode: OP.CLOSE, payload: closePayload(1000, bad), mask: key }),
      ),
  ),
);

const garbageOp: fc.Arbitrary<WsOp> = fc
  .uint8Array({ minLength: 1, maxLength: 64 })
  .map((bytes) => ({ kind: "garbage", bytes, pings: [] }));

/** A fuzz case: whether to opt in first, the ops, and how the bytes are cut into writes. */
const wsCase = fc.record({
  hello: fc.boolean(),
  ops: fc
    .tuple(
      fc.array(
        fc.oneof(
          { weight: 6, arbitrary: textOp },
          { weight: 2, arbitrary: controlOp },
          {
            weight: 2,
            arbitrary: fatalOp,
          },
        ),
        { maxLength: 8 },
      ),
      fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: garbageOp }),
    )
    .map(([ops, garbage]) => (garbage ? [...ops, garbage] : ops)),
  cuts: fc.array(fc.nat(), { maxLength: 12 }),
});

/**
 * Run on a server with its default rate, then on one that holds input back after 2 commands
 * (100/s). Held back, a session reads its messages later, but ws goes on parsing the frames of
 * the chunk it has: it answers pings and reports broken frames at once. So there, a later broken
 * frame may close the connection before an earlier quit or oversized message is read, and pings
 * after them may be answered: the expectations widen to any fatal op from the first on.
 */
const VARIANTS = [
  {
    title: "WebSocket endpoint under fuzzing",
    limits: {},
    runs: 150,
    seed: 0x1f00_0301,
    heldBack: false,
  },
  {
    title: "WebSocket endpoint under fuzzing, with input held back by the rate limit",
    limits: { ratePerSec: 100, rateBurst: 2 },
    runs: 50,
    seed: 0x1f00_0311,
    heldBack: true,
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

    it("answers any frames with valid events, pongs and a proper close, and never stops serving a bystander", async () => {
      await checkProperty(
        fc.asyncProperty(wsCase, async ({ hello, ops, cuts }) => {
          const label = `ws case ${++caseNo}`;
          const { peer, framesAt } = await openRawWebSocket(app.ports.http!);
          const stream = () => readServerStream(peer.received.subarray(framesAt));
          const key = Uint8Array.of(1, 2, 3, 4);
          const sendText = (t: string): void =>
            void peer.socket.write(encodeFrame({ opcode: OP.TEXT, payload: enc(t), mask: key }));
          try {
            await peer.until("login_successful", () => stream().events.length >= 1);
            if (hello) {
              sendText(JSON.stringify({ _ct: "hello", v: 1 }));
              await peer.until("welcome", () => stream().events.some((e) => e._et === "welcome"));
            }
            sendText(JSON.stringify({ _ct: "join_room", r: ROOM }));
            await peer.until("the join", () =>
              stream().events.some((e) => e._et === "user_joined_room" && e.r === ROOM),
            );

            // What the server must do, from the ops alone.
            const firstFatal = ops.findIndex((o) => o.fatal !== undefined);
            const garbage = ops.some((o) => o.kind === "garbage");
            const before = firstFatal === -1 ? ops : ops.slice(0, firstFatal);
            // a quit's own fragments may carry pings, answered before the quit is read
            const answered = [...before, ...(firstFatal === -1 ? [] : [ops[firstFatal]!])].flatMap(
              (o) => o.pings,
            );
            const extended = hello || before.some((o) => o.text !== undefined && optsIn(o.text));
            const allPings = ops.filter((o) => o.kind !== "garbage").flatMap((o) => o.pings);
            // the fatal ops that may end the connection: the first, or held back any from it on
            const enders = ops
              .slice(firstFatal, variant.heldBack ? undefined : firstFatal + 1)
              .filter((o) => o.fatal !== undefined);
            const token = `probe ${caseNo}`;
            const probe = garbage
              ? []
              : [encodeFrame({ opcode: OP.TEXT, payload: enc(probeCommand(token)), mask: key })];

            await peer.writePieces(
              cutAt(concatBytes([...ops.map((o) => o.bytes), ...probe]), cuts),
            );

            const pong = (): boolean =>
              stream().events.some((e) => e._et === "pong" && e.t === token);
            if (firstFatal !== -1) {
              const kinds = enders.map((o) => o.kind).join(" or ");
              await peer.until(
                `the close frame after ${kinds}`,
                () => stream().close !== undefined,
              );
              const s = stream();
              const code = s.close!.code;
              const ender = enders.find((o) => o.fatal!.includes(code));
              assert.ok(!pong(), "answered a probe sent after a fatal frame");
              const disconnects = s.events.flatMap((e) => (e._et === "disconnect" ? [e.code] : []));
              if (variant.heldBack && garbage && !ender) {
                // garbage after a held-back fatal frame may be read first, and be any frame at all
                assert.ok(disconnects.length <= 1);
              } else if (!ender) {
                assert.fail(`closed with ${code} after ${kinds}`);
              } else if (variant.heldBack) {
                assert.ok(disconnects.length <= (extended && ender.disconnect ? 1 : 0));
                if (disconnects.length > 0) assert.equal(disconnects[0], ender.disconnect);
              } else {
                assert.deepEqual(
                  disconnects,
                  extended && ender.disconnect ? [ender.disconnect] : [],
                );
              }
              // the client's half of the closing handshake
              if (!peer.isClosed && !ender?.kind.startsWith("close")) {
                peer.socket.write(
                  encodeFrame({ opcode: OP.CLOSE, payload: closePayload(1000), mask: key }),
                );
              }
            } else if (!garbage) {
              await peer.until("the probe's pong", pong);
              peer.socket.write(
                encodeFrame({ opcode: OP.CLOSE, payload: closePayload(1000), mask: key }),
              );
              await peer.until("the close echo", () => stream().close !== undefined);
              assert.equal(stream().close!.code, 1000);
            }
            peer.end();
            await peer.untilClosed("the server to close the connection");

            const s = stream(); // asserts every frame the server sent is well-formed
            assert.equal(s.partial, 0, "the server's last frame is cut");
            const want = answered.map((p) => Buffer.from(p));
            assert.deepEqual(s.pongs.slice(0, want.length), want);
            if (!garbage && variant.heldBack) {
              assert.deepEqual(
                s.pongs,
                allPings.slice(0, s.pongs.length).map((p) => Buffer.from(p)),
              );
            } else if (!garbage) {
              assert.equal(s.pongs.length, want.length);
            }
          } finally {
            peer.destroy();
          }
          await observer.check(label);
        }),
        variant.seed,
        variant.runs,
      );
    });
  });
