import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { LatencyHistogram, parseProcess } from "../../clients/stress/index.js";
import { scanEvent } from "../../clients/stress/links/event-scan.js";
import { serverOfUser, targetPorts } from "../../clients/stress/links/target-ports.js";
import type { LinkSink } from "../../clients/stress/links/link.js";
import { encodePayload, parsePayload, parsed } from "../../clients/stress/payload.js";
import { parseStressArgs } from "../../clients/stress/stress-cli.js";

describe("LatencyHistogram", () => {
  it("keeps every quantile within 0.1% of the exact one", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50_000_000 }), { minLength: 1, maxLength: 500 }),
        fc.constantFrom(0.5, 0.95, 0.99, 1),
        (values, q) => {
          const h = new LatencyHistogram();
          for (const v of values) h.record(v);
          const sorted = [...values].sort((a, b) => a - b);
          const exact = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
          const got = h.quantile(q);
          assert.ok(got >= exact, `${got} >= ${exact}`);
          assert.ok(got <= exact * 1.001 + 1, `${got} <= ${exact} + 0.1%`);
        },
      ),
    );
  });

  it("summarises in milliseconds with the exact maximum", () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i * 10);
    const s = h.summary();
    assert.equal(s.count, 1000);
    assert.equal(s.max, 10);
    assert.ok(s.p50 >= 5 && s.p50 <= 5.01);
    assert.ok(s.p99 >= 9.9 && s.p99 <= 9.92);
  });
});

describe("message payload", () => {
  it("round-trips room, sequence and send time, padded or not", () => {
    for (const size of [0, 10, 64]) {
      const p = encodePayload(17, 123456, 98765432109, size);
      assert.ok(size === 0 || p.length >= size);
      assert.equal(parsePayload(p, 1), true);
      assert.deepEqual({ ...parsed }, { room: 17, seq: 123456, sentMicros: 98765432109 });
    }
  });

  it("rejects text that is not a payload", () => {
    assert.equal(parsePayload("~hello", 1), false);
    assert.equal(parsePayload("~1:2:", 1), false);
  });
});

describe("scanEvent", () => {
  function recorder(): LinkSink & { calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      onLogin: (rooms) => calls.push(`login ${rooms?.join(",") ?? "-"}`),
      onJoined: (r) => calls.push(`joined ${r}`),
      onRead: () => {},
      onDelivery: (s, at) => calls.push(`delivery ${s.slice(at, s.indexOf('"', at))}`),
      onTrouble: (t, d) => calls.push(`trouble ${t} ${d}`),
      onClose: () => calls.push("close"),
    };
  }

  it("reads each event kind whatever the field order, and skips the others", () => {
    const lines = [
      '{"_et":"login_successful","s":"x","u":"y","rs":[{"n":"général","d":"d"},{"n":"b","d":"e"}]}',
      '{"r":"general","us":["a"],"_et":"user_joined_room"}',
      '{"_et":"room_participation","r":"general","u":"a","s":"joined"}',
      '{"c":"~1:2:3","_et":"user_message","r":"general","u":"a"}',
      '{"_et":"user_message","r":"general","u":"a","c":"hello"}',
      '{"_et":"error","code":"NOT_IN_ROOM","message":"m"}',
      '{"_et":"slow_down","retry_ms":5}',
    ];
    const text = Buffer.from(lines.join("\r\n") + "\r\n").toString("latin1");
    const sink = recorder();
    let from = 0;
    for (;;) {
      const nl = text.indexOf("\n", from);
      if (nl < 0) break;
      scanEvent(text, from, nl, 0, sink, true);
      from = nl + 1;
    }
    assert.deepEqual(sink.calls, [
      "login général,b",
      "joined general",
      "delivery 1:2:3",
      "trouble error NOT_IN_ROOM",
      "trouble slow_down ",
    ]);
  });
});

describe("parseProcess", () => {
  it("reads CPU ticks after a command name holding spaces and parentheses, and VmRSS", () => {
    const stat =
      "4242 (node (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 100 1000 2000 rest";
    const status = "Name:\tnode\nVmPeak:\t 9999 kB\nVmRSS:\t   81234 kB\nThreads:\t11\n";
    const s = parseProcess(stat, status, 100, 5);
    assert.deepEqual(s, { cpuMs: 3000, rssKiB: 81234, atMs: 5 });
  });

  it("reads RssAnon, the process's own memory without file-backed pages, when the kernel gives it", () => {
    const stat = "7 (server) S 1 7 7 0 -1 0 0 0 0 0 10 20 0 0 20 0 1 0 1 1 1 rest";
    const status = "VmRSS:\t   62900 kB\nRssAnon:\t   60100 kB\nRssFile:\t    2800 kB\n";
    assert.deepEqual(parseProcess(stat, status, 100, 1), {
      cpuMs: 300,
      rssKiB: 62900,
      anonKiB: 60100,
      atMs: 1,
    });
  });

  it("returns undefined for text that is not /proc's", () => {
    assert.equal(parseProcess("garbage", "nothing", 100, 0), undefined);
  });
});

describe("stress command line", () => {
  it("applies the scenario's defaults, then the options given", () => {
    const r = parseStressArgs(["--scenario", "seed", "--rate", "50", "--port", "9000"]);
    assert.notEqual(r, "help");
    if (r === "help") return;
    assert.equal(r.options.users, 48);
    assert.equal(r.options.roomSize, 2);
    assert.equal(r.options.rate, 50);
    assert.equal(r.options.durationS, 20);
    assert.deepEqual(r.options.target, { kind: "tcp", host: "127.0.0.1", port: 9000, path: "/ws" });
    assert.equal(r.options.extensions, false);
  });

  it("takes several ports and server pids as comma-separated lists, a single one unchanged", () => {
    const r = parseStressArgs([
      "--scenario",
      "seed",
      "--port",
      "8080,8090,8100",
      "--server-pid",
      "11,22,33",
    ]);
    if (r === "help") throw new Error("help");
    assert.deepEqual(r.options.target, {
      kind: "tcp",
      host: "127.0.0.1",
      port: 8080,
      ports: [8080, 8090, 8100],
      path: "/ws",
    });
    assert.equal(r.options.serverPid, 11);
    assert.deepEqual(r.options.otherServerPids, [22, 33]);
    const one = parseStressArgs(["--scenario", "seed", "--port", "9000", "--server-pid", "7"]);
    if (one === "help") throw new Error("help");
    assert.equal("ports" in one.options.target, false);
    assert.equal(one.options.serverPid, 7);
    assert.equal(one.options.otherServerPids, undefined);
    assert.throws(() => parseStressArgs(["--scenario", "seed", "--port", "8080,"]), /--port/);
  });

  it("defaults the ramp to the original stress test and parses --stages", () => {
    const r = parseStressArgs(["--scenario", "ramp"]);
    if (r === "help") throw new Error("help");
    assert.deepEqual(r.options.stages, [
      { users: 1200, seconds: 60 },
      { users: 2400, seconds: 120 },
    ]);
    const s = parseStressArgs([
      "--scenario",
      "ramp",
      "--stages",
      "10:1,20:2.5",
      "--transport",
      "ws",
    ]);
    if (s === "help") throw new Error("help");
    assert.deepEqual(s.options.stages, [
      { users: 10, seconds: 1 },
      { users: 20, seconds: 2.5 },
    ]);
    assert.equal(s.options.target.port, 8081);
  });

  it("rejects unknown scenarios, transports and malformed numbers", () => {
    assert.throws(() => parseStressArgs(["--scenario", "nope"]), /--scenario/);
    assert.throws(
      () => parseStressArgs(["--scenario", "seed", "--transport", "udp"]),
      /--transport/,
    );
    assert.throws(() => parseStressArgs(["--scenario", "seed", "--users", "1.5"]), /--users/);
    assert.throws(
      () => parseStressArgs(["--scenario", "seed", "--original-only", "--extensions"]),
      /exclude/,
    );
  });
});

describe("users over several ports", () => {
  it("spreads users round-robin, so that with as many ports as room members every room spans them all", () => {
    assert.deepEqual(
      Array.from({ length: 6 }, (_, i) => serverOfUser(i, 2)),
      [0, 1, 0, 1, 0, 1],
    );
    assert.deepEqual(
      Array.from({ length: 7 }, (_, i) => serverOfUser(i, 3)),
      [0, 1, 2, 0, 1, 2, 0],
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 200 }),
        (roomSize, extraPorts, users) => {
          const ports = roomSize + extraPorts;
          // the seed's rooms: consecutive users, roomSize per room
          const rooms = new Map<number, number[]>();
          for (let i = 0; i < users; i++) {
            const room = Math.floor(i / roomSize);
            rooms.set(room, [...(rooms.get(room) ?? []), serverOfUser(i, ports)]);
          }
          for (const servers of rooms.values()) {
            assert.equal(new Set(servers).size, servers.length, servers.join(","));
          }
        },
      ),
    );
  });

  it("lists a target's ports: all of them, or its one port", () => {
    const t = { kind: "tcp" as const, host: "127.0.0.1", port: 1, path: "/ws" };
    assert.deepEqual(targetPorts(t), [1]);
    assert.deepEqual(targetPorts({ ...t, ports: [1, 2] }), [1, 2]);
  });
});
