import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runScenario } from "../../clients/stress/index.js";
import { startNetFloorPeer } from "../../bench/peers/net-floor-peer.js";
import { startSocketIoPeer } from "../../bench/peers/socketio-peer.js";
import { startWsPeer } from "../../bench/peers/ws-peer.js";
import { assertLatencyOrdered, assertLossless, tiny } from "./stress-helpers.js";

describe("stress tool over WebSocket against the plain ws peer", () => {
  let peer: Awaited<ReturnType<typeof startWsPeer>>;
  before(async () => {
    peer = await startWsPeer({ port: 0 });
  });
  after(() => peer.close());

  it("seed: one JSON per text frame, nothing lost", async () => {
    const report = await runScenario(
      tiny("seed", { kind: "ws", port: peer.port }, { users: 8, rate: 40, durationS: 1 }),
    );
    assertLossless(report);
    assert.equal(report.target, `ws://127.0.0.1:${peer.port}/ws`);
    assert.equal(report.result.expected, report.result.sent * 2);
  });

  it("fanout: every member of the room receives every message", async () => {
    const report = await runScenario(
      tiny("fanout", { kind: "ws", port: peer.port }, { users: 25, rate: 20, durationS: 0.6 }),
    );
    assertLossless(report);
    assert.equal(report.result.expected, report.result.sent * 25);
  });
});

describe("stress tool over Socket.IO against the Socket.IO peer", () => {
  let peer: Awaited<ReturnType<typeof startSocketIoPeer>>;
  before(async () => {
    peer = await startSocketIoPeer({ port: 0 });
  });
  after(() => peer.close());

  it("seed: events named after _ct/_et, nothing lost", async () => {
    const report = await runScenario(
      tiny("seed", { kind: "socketio", port: peer.port }, { users: 8, rate: 40, durationS: 1 }),
    );
    assertLossless(report);
    assert.equal(report.result.expected, report.result.sent * 2);
  });
});

describe("stress tool over line TCP against the net floor peer", () => {
  let peer: Awaited<ReturnType<typeof startNetFloorPeer>>;
  before(async () => {
    peer = await startNetFloorPeer({ port: 0 });
  });
  after(() => peer.close());

  it("seed: the original protocol, nothing lost", async () => {
    const report = await runScenario(
      tiny("seed", { kind: "tcp", port: peer.port }, { users: 8, rate: 40, durationS: 1 }),
    );
    assertLossless(report);
    assert.equal(report.result.expected, report.result.sent * 2);
  });

  it("fanout: every member of the room receives every message", async () => {
    const report = await runScenario(
      tiny("fanout", { kind: "tcp", port: peer.port }, { users: 25, rate: 20, durationS: 0.6 }),
    );
    assertLossless(report);
    assert.equal(report.result.expected, report.result.sent * 25);
  });
});

describe("stress tool loss counter", () => {
  it("detects a server that drops every 7th delivery, and counts exactly those", async () => {
    const peer = await startWsPeer({ port: 0, dropEvery: 7 });
    try {
      const report = await runScenario(
        tiny(
          "seed",
          { kind: "ws", port: peer.port },
          { users: 8, rate: 40, durationS: 1, drainMs: 500 },
        ),
      );
      const m = report.result;
      assert.equal(m.expected, m.sent * 2);
      assert.equal(m.lost, Math.floor(m.expected / 7));
      assert.ok(m.lost > 0);
      assert.equal(m.delivered + m.lost, m.expected);
      assert.ok(m.lossPct > 14 && m.lossPct < 15, `lossPct ${m.lossPct}`);
      assertLatencyOrdered(report);
    } finally {
      await peer.close();
    }
  });
});
