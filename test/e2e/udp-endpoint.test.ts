import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import type { App } from "../../src/app.js";
import { Hs256Verifier, signToken } from "../helpers/hs256-verifier.js";
import { LineClient } from "./support/chat-clients.js";
import { eventually, metric, startDeviceApp } from "./support/device-app.js";
import type { TestConfig } from "./support/test-app.js";

/** A UDP peer on loopback recording every datagram it gets back. */
class Peer {
  readonly replies: string[] = [];
  private constructor(readonly socket: Socket) {
    socket.on("message", (m) => this.replies.push(m.toString("utf8")));
  }
  static async open(): Promise<Peer> {
    const s = createSocket("udp4");
    await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
    return new Peer(s);
  }
  send(port: number, data: string | Buffer | object): Promise<void> {
    const buf = typeof data === "string" || Buffer.isBuffer(data) ? data : JSON.stringify(data);
    return new Promise((resolve, reject) =>
      this.socket.send(buf, port, "127.0.0.1", (err) => (err ? reject(err) : resolve())),
    );
  }
  close(): void {
    this.socket.close();
  }
}

const SECRET = "udp-test-secret-0123456789abcdefgh";

function udpConfig(extra: Partial<TestConfig["udp"]> = {}): TestConfig {
  return {
    udp: { port: 0, maxBytes: 1_200, ratePerIp: 20, burstPerIp: 40, globalRate: 1_000, ...extra },
  };
}

const dropped = (app: App, reason: string): Promise<number> =>
  metric(app, `parley_udp_dropped_total{reason="${reason}"}`);

describe("UDP endpoint", () => {
  it("answers a ping with a pong no larger than the ping, carrying its t", async () => {
    const app = await startDeviceApp(udpConfig());
    const peer = await Peer.open();
    try {
      await peer.send(app.ports.udp!, '{"_ct":"ping","t":"hc-1"}');
      await peer.send(app.ports.udp!, '{"_ct":"ping"}');
      await peer.send(app.ports.udp!, '{"_ct":"ping","t":42}');
      await eventually("3 pongs", () => peer.replies.length === 3);
      assert.deepEqual(
        peer.replies
          .map((r) => JSON.parse(r) as unknown)
          .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
        [{ _et: "pong" }, { _et: "pong", t: "hc-1" }, { _et: "pong", t: 42 }].sort((a, b) =>
          JSON.stringify(a).localeCompare(JSON.stringify(b)),
        ),
      );
      for (const r of peer.replies) assert.ok(Buffer.byteLength(r) <= 25);
      // 1e21 comes back as 1e+21: one byte longer than the ping, so it is not answered
      await peer.send(app.ports.udp!, '{"_ct":"ping","t":1e21}');
      await eventually("counted", async () => (await dropped(app, "reply_too_large")) === 1);
      assert.equal(peer.replies.length, 3);
      assert.equal(await metric(app, "parley_udp_pongs_total"), 3);
    } finally {
      peer.close();
      await app.stop();
    }
  });

  it("drops oversize, malformed and unauthenticated datagrams without a word, counting each by reason", async () => {
    const app = await startDeviceApp(udpConfig({ maxBytes: 200 })); // no token verifier
    const peer = await Peer.open();
    try {
      const port = app.ports.udp!;
      await peer.send(port, JSON.stringify({ _ct: "ping", t: "x".repeat(300) })); // too_large
      await peer.send(port, "{not json"); // bad_json
      await peer.send(port, Buffer.from([0xc3, 0x28])); // bad_json: not UTF-8
      await peer.send(port, "[1]"); // bad_command
      await peer.send(port, '{"_ct":"join_room","r":"general"}'); // bad_command
      await peer.send(port, '{"_ct":"ping","t":{"a":1}}'); // bad_command
      await peer.send(port, '{"_ct":"send_message","r":"general","c":"hi","tok":"x"}'); // unauthorized: publishing is off
      await eventually(
        "7 counted",
        async () => (await metric(app, "parley_udp_received_total")) === 7,
      );
      assert.equal(await dropped(app, "too_large"), 1);
      assert.equal(await dropped(app, "bad_json"), 2);
      assert.equal(await dropped(app, "bad_command"), 3);
      assert.equal(await dropped(app, "unauthorized"), 1);
      // a good ping afterwards is the only thing ever answered
      await peer.send(port, '{"_ct":"ping","t":"last"}');
      await eventually("the pong", () => peer.replies.length === 1);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(peer.replies, ['{"_et":"pong","t":"last"}']);
    } finally {
      peer.close();
      await app.stop();
    }
  });

  it("publishes a message with a valid token into a room a TCP member is in, with the token's identity and write rooms", async () => {
    const app = await startDeviceApp(udpConfig(), new Hs256Verifier(SECRET));
    const peer = await Peer.open();
    try {
      const port = app.ports.udp!;
      const member = await LineClient.open(app.ports.tcp!);
      await member.login();
      await member.join("general");
      const tok = await signToken(SECRET, "meter-3", { name: "Meter-3", wr: ["general"] });
      const forged = await signToken("not-the-secret-0123456789abcdefgh", "meter-3");
      await peer.send(port, { _ct: "send_message", r: "general", c: "no token" });
      await peer.send(port, { _ct: "send_message", r: "general", c: "forged", tok: forged });
      await peer.send(port, { _ct: "send_message", r: "rust", c: "not allowed", tok });
      await peer.send(port, {
        _ct: "send_message",
        r: "nowhere",
        c: "lost",
        tok: await signToken(SECRET, "m4"),
      });
      await peer.send(port, { _ct: "send_message", r: "general", c: "reading 1", tok, cid: "a1" });
      const m = await member.waitFor("user_message", (e) => e.c === "reading 1");
      assert.equal(m.u, "meter-3");
      assert.equal(m.n, "Meter-3");
      assert.equal(m.id, 1);
      // a resend of the same cid is not posted twice
      await peer.send(port, { _ct: "send_message", r: "general", c: "reading 1", tok, cid: "a1" });
      await peer.send(port, { _ct: "send_message", r: "general", c: "reading 2", tok, cid: "a2" });
      const m2 = await member.waitFor("user_message", (e) => e.c === "reading 2");
      assert.equal(m2.id, 2);
      await eventually(
        "every drop counted",
        async () => (await dropped(app, "unknown_room")) === 1,
      );
      assert.equal(await dropped(app, "unauthorized"), 2);
      assert.equal(await dropped(app, "forbidden"), 1);
      assert.deepEqual(
        member.events.filter((e) => e._et === "user_message").map((e) => (e as { c: string }).c),
        ["reading 1", "reading 2"],
      );
      assert.equal(peer.replies.length, 0, "publishing is fire-and-forget: nothing comes back");
      member.send({ _ct: "history", r: "general" });
      const h = await member.waitFor("history");
      assert.deepEqual(
        h.ms.map((x) => [x.id, x.u, x.c]),
        [
          [1, "meter-3", "reading 1"],
          [2, "meter-3", "reading 2"],
        ],
      );
      member.close();
    } finally {
      peer.close();
      await app.stop();
    }
  });

  it("holds a source address to its rate: past the burst, datagrams are dropped and counted", async () => {
    const app = await startDeviceApp(udpConfig({ ratePerIp: 5, burstPerIp: 10 }));
    const peer = await Peer.open();
    try {
      for (let i = 0; i < 60; i++) await peer.send(app.ports.udp!, `{"_ct":"ping","t":${i}}`);
      await eventually(
        "60 received",
        async () => (await metric(app, "parley_udp_received_total")) === 60,
      );
      const rate = await dropped(app, "rate");
      const answered = await metric(app, "parley_udp_pongs_total");
      assert.equal(rate + answered, 60);
      // the burst, plus what 5/s refills while the 60 are sent (generous for a busy machine)
      assert.ok(answered >= 10 && answered <= 25, `answered ${answered}`);
      await eventually("the pongs", () => peer.replies.length === answered);
    } finally {
      peer.close();
      await app.stop();
    }
  });

  it("caps all sources together with the global rate", async () => {
    const app = await startDeviceApp(
      udpConfig({ ratePerIp: 1_000, burstPerIp: 1_000, globalRate: 5 }),
    );
    const peers = await Promise.all([Peer.open(), Peer.open(), Peer.open()]);
    try {
      for (let i = 0; i < 20; i++)
        for (const p of peers) await p.send(app.ports.udp!, '{"_ct":"ping"}');
      await eventually(
        "60 received",
        async () => (await metric(app, "parley_udp_received_total")) === 60,
      );
      const answered = await metric(app, "parley_udp_pongs_total");
      // burst 10 (twice the rate) plus the refill meanwhile
      assert.ok(answered >= 10 && answered <= 25, `answered ${answered}`);
      assert.equal(await dropped(app, "rate"), 60 - answered);
    } finally {
      for (const p of peers) p.close();
      await app.stop();
    }
  });
});
