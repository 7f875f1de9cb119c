import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runScenario } from "../../clients/stress/index.js";
import { assertLatencyOrdered, assertLossless, startParley, tiny } from "./stress-helpers.js";

describe("stress tool against Parley over line TCP", () => {
  let parley: Awaited<ReturnType<typeof startParley>>;
  before(async () => {
    parley = await startParley();
  });
  after(() => parley.stop());

  it("seed: every message reaches both members of its room, with server CPU and RSS read from /proc", async () => {
    const report = await runScenario(
      tiny(
        "seed",
        { port: parley.port },
        { users: 8, roomSize: 2, rate: 40, durationS: 1, serverPid: process.pid },
      ),
    );
    assertLossless(report);
    const m = report.result;
    assert.equal(report.connections.ready, 8);
    assert.ok(m.sent >= 8 * 40 * 0.9, `sent ${m.sent} at 8 x 40 msg/s for 1 s`);
    assert.equal(m.expected, m.sent * 2);
    assert.ok(Math.abs(m.deliveriesPerMin - m.deliveriesPerSec * 60) <= 60);
    assert.ok(m.server, "server stats");
    assert.ok(m.server.rssKiB > 0);
    assert.ok(m.server.cpuMs >= 0);
    assert.ok(m.server.rssPeakKiB >= m.server.rssKiB);
    assert.equal(report.originalOnly, true);
  });

  it("fanout: every message reaches every member of the one room", async () => {
    const report = await runScenario(
      tiny("fanout", { port: parley.port }, { users: 30, rate: 20, durationS: 1 }),
    );
    assertLossless(report);
    assert.ok(report.result.sent >= 18);
    assert.equal(report.result.expected, report.result.sent * 30);
  });

  it("ramp: users arriving while others send are owed only what is sent after they joined", async () => {
    const report = await runScenario(
      tiny(
        "ramp",
        { port: parley.port },
        {
          stages: [
            { users: 12, seconds: 0.6 },
            { users: 24, seconds: 0.6 },
          ],
          stepsPerStage: 6,
          roomsPerUser: 3,
          rate: 8,
          durationS: 0.5,
        },
      ),
    );
    assertLossless(report);
    assert.equal(report.ramp?.peakUsers, 24);
    assert.ok(report.result.sent > 24, `sent ${report.result.sent}`);
    assert.ok(report.result.delivered > report.result.sent);
  });

  it("idle: reports the server's RSS per connection", async () => {
    const report = await runScenario(
      tiny("idle", { port: parley.port }, { users: 200, settleMs: 200, serverPid: process.pid }),
    );
    assert.equal(report.connections.ready, 200);
    assert.equal(report.errors.total, 0);
    assert.ok(report.idle, "idle section");
    assert.equal(report.idle.connections, 200);
    assert.ok(report.idle.rssAfterKiB > 0 && report.idle.rssBeforeKiB > 0);
    assert.equal(
      report.idle.rssPerConnectionKiB,
      Math.round(((report.idle.rssAfterKiB - report.idle.rssBeforeKiB) / 200) * 100) / 100,
    );
  });

  it("ceiling: raises the rate step by step and reports the last good step", async () => {
    const report = await runScenario(
      tiny(
        "ceiling",
        { port: parley.port },
        { users: 6, roomSize: 2, startRate: 20, stepFactor: 2, stepS: 0.4, maxSteps: 3 },
      ),
    );
    const c = report.ceiling!;
    assert.equal(c.steps.length, 3);
    assert.deepEqual(
      c.steps.map((s) => s.ratePerUser),
      [20, 40, 80],
    );
    for (const s of c.steps) {
      assert.deepEqual(s.problems, []);
      assert.equal(s.measurement.lost, 0);
      assert.equal(s.measurement.delivered, s.measurement.expected);
      assert.equal(s.measurement.expected, s.measurement.sent * 2);
    }
    assert.ok(c.steps[2]!.measurement.sent > c.steps[0]!.measurement.sent);
    assert.equal(c.lastGood?.ratePerUser, 80);
    assert.equal(c.lastGood?.deliveriesPerSec, c.steps[2]!.measurement.deliveriesPerSec);
    assert.match(c.stopReason, /max-steps/);
    assertLatencyOrdered(report);
  });
});

describe("stress tool against several servers", () => {
  it("connects users to the given ports round-robin and sums the server processes' CPU and RSS", async () => {
    const [a, b] = await Promise.all([startParley(), startParley()]);
    try {
      // one member per room: each server delivers its own users' messages
      const report = await runScenario(
        tiny(
          "seed",
          { port: a.port, ports: [a.port, b.port] },
          {
            users: 6,
            roomSize: 1,
            rate: 20,
            durationS: 0.5,
            serverPid: process.pid,
            otherServerPids: [process.pid],
          },
        ),
      );
      assertLossless(report);
      assert.equal(report.target, `tcp://127.0.0.1:${a.port},${b.port}`);
      const opened = async (app: typeof a): Promise<number> => {
        const text = await app.metrics.registry.metrics();
        const line = text
          .split("\n")
          .find((l) => l.startsWith('parley_connections_opened_total{transport="tcp"}'));
        return Number(line?.split(" ")[1]);
      };
      // the first port also served the connection that read the room list
      assert.equal(await opened(a), 1 + 3);
      assert.equal(await opened(b), 3);
      // the same process counted twice: its RSS twice
      assert.ok(report.result.server!.rssKiB > (process.memoryUsage().rss / 1024) * 1.5);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe("stress tool error accounting", () => {
  it("counts connections the server refuses, and owes nothing to them", async () => {
    const parley = await startParley({ maxConnections: 6 });
    try {
      const report = await runScenario(
        tiny("seed", { port: parley.port }, { users: 8, roomSize: 2, rate: 20, durationS: 0.5 }),
      );
      // 6 accepted (the room-discovery connection closed before the users connected)
      assert.equal(report.connections.ready, 6);
      assert.equal(report.connections.failed, 2);
      assert.ok(report.errors.total >= 2, JSON.stringify(report.errors));
      assert.equal(report.result.lost, 0);
      assert.equal(report.result.delivered, report.result.expected);
    } finally {
      await parley.stop();
    }
  });

  it("counts members the server disconnects mid-run as errors and stops owing them messages", async () => {
    const parley = await startParley();
    let stopped: Promise<void> | undefined;
    try {
      const timer = setTimeout(() => {
        stopped = parley.stop();
      }, 600);
      const report = await runScenario(
        tiny(
          "seed",
          { port: parley.port },
          { users: 8, roomSize: 2, rate: 100, durationS: 1.2, drainMs: 300 },
        ),
      );
      clearTimeout(timer);
      assert.equal(report.connections.closedEarly, 8);
      assert.ok(report.errors.total >= 8, JSON.stringify(report.errors));
      assert.ok(report.result.delivered <= report.result.sent * 2);
      assert.equal(report.result.lost, report.result.expected - report.result.delivered);
    } finally {
      await (stopped ?? parley.stop());
    }
  });
});
