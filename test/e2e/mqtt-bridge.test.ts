import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import mqtt, { type MqttClient } from "mqtt";
import type { Event, RoomParticipationEvent, UserMessageEvent } from "../../src/protocol/index.js";
import { startMosquitto, type TestMosquitto } from "../helpers/mosquitto.js";
import { Hs256Verifier, signToken } from "../helpers/hs256-verifier.js";
import { LineClient } from "./support/chat-clients.js";
import { eventually, metric, startDeviceApp } from "./support/device-app.js";

/** A test-side MQTT client recording what it receives, in order. */
class Subscriber {
  readonly got: Array<{ topic: string; ev: Event }> = [];
  private constructor(readonly client: MqttClient) {
    client.on("message", (topic, payload) => {
      this.got.push({ topic, ev: JSON.parse(payload.toString("utf8")) as Event });
    });
  }

  /**
   * Subscribes to `filter` (QoS 1). `persistent`: a fixed client id and a kept session, so the
   * broker queues for it while it is away (and keeps it over its own restart).
   */
  static async open(url: string, filter: string, persistent?: string): Promise<Subscriber> {
    const client = await mqtt.connectAsync(url, {
      protocolVersion: 4,
      reconnectPeriod: 100,
      ...(persistent !== undefined
        ? { clientId: persistent, clean: false }
        : { clientId: `test-${Math.random().toString(36).slice(2)}` }),
    });
    const s = new Subscriber(client);
    await client.subscribeAsync(filter, { qos: 1 });
    return s;
  }

  on(topic: string): Event[] {
    return this.got.filter((g) => g.topic === topic).map((g) => g.ev);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** Publishes one device message (QoS 1). */
async function device(url: string, topic: string, payload: string | Buffer): Promise<void> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  await c.publishAsync(topic, payload, { qos: 1 });
  await c.endAsync();
}

const texts = (evs: Event[]): string[] =>
  evs.filter((e): e is UserMessageEvent => e._et === "user_message").map((e) => e.c);

let broker: TestMosquitto;
let prefixN = 0;
/** a fresh topic prefix per test: the tests share one broker */
const nextPrefix = (): string => `t${++prefixN}-${process.pid}`;

describe("MQTT bridge (real mosquitto)", () => {
  before(async () => {
    broker = await startMosquitto();
  });
  after(async () => {
    await broker.close();
  });

  it("publishes room messages and presence on their topics, in order, as the events clients get", async () => {
    const prefix = nextPrefix();
    const sub = await Subscriber.open(broker.url, `${prefix}/rooms/#`);
    const app = await startDeviceApp({
      mqtt: { url: broker.url, prefix, ingest: false, queueMax: 100 },
    });
    try {
      await eventually("the bridge to connect", () => app.mqtt!.up);
      const alice = await LineClient.open(app.ports.tcp!);
      const aliceId = await alice.login("alice");
      await alice.join("general");
      for (let i = 1; i <= 5; i++) alice.send({ _ct: "send_message", r: "general", c: `m${i}` });
      const bob = await LineClient.open(app.ports.tcp!);
      const bobId = await bob.login("bob");
      await bob.join("general");
      bob.send({ _ct: "leave_room", r: "general" });
      await bob.waitFor("room_participation", (e) => e.s === "left" && e.u === bobId);

      const messages = `${prefix}/rooms/general/messages`;
      const presence = `${prefix}/rooms/general/presence`;
      await eventually(
        "5 messages and 3 presence events",
        () => sub.on(messages).length === 5 && sub.on(presence).length === 3,
      );
      const ms = sub.on(messages) as UserMessageEvent[];
      assert.deepEqual(texts(ms), ["m1", "m2", "m3", "m4", "m5"]);
      assert.deepEqual(
        ms.map((m) => m.id),
        [1, 2, 3, 4, 5],
      );
      assert.ok(ms.every((m) => m.u === aliceId && m.n === "alice" && m.r === "general"));
      const ps = sub.on(presence) as RoomParticipationEvent[];
      assert.deepEqual(
        ps.map((p) => [p.u, p.s]),
        [
          [aliceId, "joined"],
          [bobId, "joined"],
          [bobId, "left"],
        ],
      );
      // the broker may forward before it acknowledges to the bridge
      await eventually(
        "8 acknowledged",
        async () => (await metric(app, "parley_mqtt_published_total")) === 8,
      );
      assert.equal(await metric(app, "parley_mqtt_up"), 1);
      const ready = await fetch(`http://127.0.0.1:${app.ports.http}/readyz`);
      assert.equal(ready.status, 200);
      assert.match(await ready.text(), /mqtt: up \(queued 0\)/);
      alice.close();
      bob.close();
    } finally {
      await app.stop();
      await sub.close();
    }
  });

  it("posts device messages into a room: members see them with offsets, history has them, a resend is not repeated", async () => {
    const prefix = nextPrefix();
    const app = await startDeviceApp({
      mqtt: { url: broker.url, prefix, ingest: true, queueMax: 100 },
    });
    const sub = await Subscriber.open(broker.url, `${prefix}/rooms/+/messages`);
    try {
      await eventually("the ingest subscription", () => app.mqtt!.ingestActive);
      const member = await LineClient.open(app.ports.tcp!);
      await member.login("reader");
      await member.join("general");
      const topic = `${prefix}/rooms/general/in`;
      await device(broker.url, topic, JSON.stringify({ c: "temp 21.5", u: "sensor-1", cid: "r1" }));
      const first = await member.waitFor("user_message", (e) => e.c === "temp 21.5", 10_000);
      assert.equal(first.u, "sensor-1");
      assert.equal(first.n, "sensor-1");
      assert.equal(first.cid, "r1");
      assert.equal(first.id, 1);
      // the same cid again (a device resending after a lost ack), then a new one
      await device(broker.url, topic, JSON.stringify({ c: "temp 21.5", u: "sensor-1", cid: "r1" }));
      await device(broker.url, topic, JSON.stringify({ c: "temp 22.0", u: "sensor-1", cid: "r2" }));
      const second = await member.waitFor("user_message", (e) => e.c === "temp 22.0", 10_000);
      assert.equal(second.id, 2);
      assert.equal(member.events.filter((e) => e._et === "user_message").length, 2);

      member.send({ _ct: "history", r: "general" });
      const h = await member.waitFor("history");
      assert.deepEqual(
        h.ms.map((m) => [m.id, m.u, m.c]),
        [
          [1, "sensor-1", "temp 21.5"],
          [2, "sensor-1", "temp 22.0"],
        ],
      );
      // ingested messages originated here: the bridge publishes them too
      await eventually(
        "both on the messages topic",
        () => sub.on(`${prefix}/rooms/general/messages`).length === 2,
      );
      assert.equal(await metric(app, "parley_mqtt_ingested_total"), 3);
      member.close();
    } finally {
      await app.stop();
      await sub.close();
    }
  });

  it("counts and drops bad device messages by reason, and keeps serving", async () => {
    const prefix = nextPrefix();
    const app = await startDeviceApp({
      mqtt: { url: broker.url, prefix, ingest: true, queueMax: 100 },
      limits: { maxLineBytes: 256, ratePerSec: 1, rateBurst: 2 },
    });
    try {
      await eventually("the ingest subscription", () => app.mqtt!.ingestActive);
      const member = await LineClient.open(app.ports.tcp!);
      await member.login();
      await member.join("rust");
      const topic = `${prefix}/rooms/rust/in`;
      const bad: Array<[string | Buffer, string]> = [
        ["not json", "bad_json"],
        [Buffer.from([0xff, 0xfe, 0x7b]), "bad_json"],
        ["[1,2]", "bad_payload"],
        ['{"u":"x"}', "bad_payload"],
        ['{"c":5}', "bad_payload"],
        ['{"c":"hi","u":"has space"}', "bad_payload"],
        ['{"c":""}', "bad_payload"],
        [JSON.stringify({ c: "x".repeat(300) }), "too_large"],
      ];
      for (const [payload] of bad) await device(broker.url, topic, payload);
      await device(broker.url, `${prefix}/rooms/no-such-room/in`, '{"c":"hello"}');
      // then good ones from one device: its bucket holds 2, the third at once is over the rate
      for (const c of ["ok1", "ok2", "ok3"]) {
        await device(broker.url, topic, JSON.stringify({ c, u: "dev-9" }));
      }
      await member.waitFor("user_message", (e) => e.c === "ok2", 10_000);
      const reasons = ["bad_json", "bad_payload", "too_large", "unknown_room", "rate"];
      const want: Record<string, number> = {
        bad_json: 2,
        bad_payload: 5,
        too_large: 1,
        unknown_room: 1,
        rate: 1,
      };
      await eventually("every drop counted", async () => {
        for (const r of reasons) {
          if ((await metric(app, `parley_mqtt_ingest_dropped_total{reason="${r}"}`)) !== want[r])
            return false;
        }
        return true;
      });
      assert.equal(await metric(app, "parley_mqtt_ingested_total"), 2);
      assert.deepEqual(texts(member.events), ["ok1", "ok2"]);
      // still serving clients and devices
      member.send({ _ct: "send_message", r: "rust", c: "still here" });
      await member.waitFor("user_message", (e) => e.c === "still here");
      member.close();
    } finally {
      await app.stop();
    }
  });

  it("with a token verifier, takes a device's identity from its token and applies its write rooms", async () => {
    const prefix = nextPrefix();
    const secret = "device-test-secret-0123456789abcdef";
    const app = await startDeviceApp(
      { mqtt: { url: broker.url, prefix, ingest: true, queueMax: 100 } },
      new Hs256Verifier(secret),
    );
    try {
      await eventually("the ingest subscription", () => app.mqtt!.ingestActive);
      const member = await LineClient.open(app.ports.tcp!);
      await member.login();
      await member.join("general");
      const topic = `${prefix}/rooms/general/in`;
      const good = await signToken(secret, "thermo-7", { name: "Thermostat", wr: ["general"] });
      const elsewhere = await signToken(secret, "thermo-8", { wr: ["rust"] });
      const forged = await signToken("another-secret-0123456789abcdef", "thermo-7");
      await device(broker.url, topic, JSON.stringify({ c: "no token", u: "x" }));
      await device(broker.url, topic, JSON.stringify({ c: "forged", tok: forged }));
      await device(broker.url, topic, JSON.stringify({ c: "wrong room", tok: elsewhere }));
      await device(broker.url, topic, JSON.stringify({ c: "signed", u: "spoofed", tok: good }));
      const m = await member.waitFor("user_message", (e) => e.c === "signed", 10_000);
      assert.equal(m.u, "thermo-7");
      assert.equal(m.n, "Thermostat");
      assert.deepEqual(texts(member.events), ["signed"]);
      assert.equal(await metric(app, 'parley_mqtt_ingest_dropped_total{reason="unauthorized"}'), 2);
      assert.equal(await metric(app, 'parley_mqtt_ingest_dropped_total{reason="forbidden"}'), 1);
      member.close();
    } finally {
      await app.stop();
    }
  });

  it("queues while the broker is down and, when it is back, delivers everything in order", async () => {
    const prefix = nextPrefix();
    const topic = `${prefix}/rooms/general/messages`;
    const sub = await Subscriber.open(broker.url, topic, `keeper-${prefix}`);
    const app = await startDeviceApp({
      mqtt: { url: broker.url, prefix, ingest: false, queueMax: 1_000 },
    });
    try {
      await eventually("the bridge to connect", () => app.mqtt!.up);
      const alice = await LineClient.open(app.ports.tcp!);
      await alice.login();
      await alice.join("general");
      for (let i = 1; i <= 5; i++) alice.send({ _ct: "send_message", r: "general", c: `m${i}` });
      await eventually("the first 5 delivered", () => sub.on(topic).length === 5);

      await broker.stop();
      await eventually("the bridge to see the broker gone", () => !app.mqtt!.up);
      for (let i = 6; i <= 30; i++) alice.send({ _ct: "send_message", r: "general", c: `m${i}` });
      await alice.waitFor("user_message", (e) => e.c === "m30");
      await eventually(
        "25 queued",
        async () => (await metric(app, "parley_mqtt_queue_depth")) === 25,
      );
      assert.equal(await metric(app, "parley_mqtt_up"), 0);
      const ready = await fetch(`http://127.0.0.1:${app.ports.http}/readyz`);
      assert.equal(
        ready.status,
        200,
        "an optional bridge being down does not make the server unready",
      );
      assert.match(await ready.text(), /mqtt: down \(queued 25\)/);

      await broker.start();
      await eventually("all 30 delivered", () => new Set(texts(sub.on(topic))).size === 30, 30_000);
      // at least once: a publication whose ack was lost may come twice, never out of order
      const seen: string[] = [];
      for (const t of texts(sub.on(topic))) if (!seen.includes(t)) seen.push(t);
      assert.deepEqual(
        seen,
        Array.from({ length: 30 }, (_, i) => `m${i + 1}`),
      );
      const firstIds = new Map<string, number>();
      for (const m of sub.on(topic) as UserMessageEvent[])
        if (!firstIds.has(m.c)) firstIds.set(m.c, m.id!);
      assert.deepEqual(
        [...firstIds.values()],
        Array.from({ length: 30 }, (_, i) => i + 1),
      );
      await eventually(
        "queue empty",
        async () => (await metric(app, "parley_mqtt_queue_depth")) === 0,
      );
      // 30 messages + alice's join
      assert.equal(await metric(app, "parley_mqtt_published_total"), 31);
      assert.equal(await metric(app, 'parley_mqtt_dropped_total{reason="overflow"}'), 0);
      assert.equal(await metric(app, "parley_mqtt_up"), 1);
      alice.close();
    } finally {
      await app.stop();
      await sub.client.unsubscribeAsync(topic).catch(() => {});
      await sub.close();
    }
  });

  it("past its bound, the queue drops the oldest publications and counts them", async () => {
    const prefix = nextPrefix();
    const topic = `${prefix}/rooms/general/messages`;
    const sub = await Subscriber.open(broker.url, `${prefix}/rooms/#`, `keeper-${prefix}`);
    await broker.stop();
    // the broker is unreachable at start: the server starts anyway, and keeps trying
    const app = await startDeviceApp({
      mqtt: { url: broker.url, prefix, ingest: false, queueMax: 5 },
    });
    try {
      const alice = await LineClient.open(app.ports.tcp!);
      await alice.login();
      await alice.join("general"); // a presence publication: the oldest, dropped below
      for (let i = 1; i <= 8; i++) alice.send({ _ct: "send_message", r: "general", c: `m${i}` });
      await alice.waitFor("user_message", (e) => e.c === "m8");
      assert.equal(await metric(app, 'parley_mqtt_dropped_total{reason="overflow"}'), 4);
      assert.equal(await metric(app, "parley_mqtt_queue_depth"), 5);
      await broker.start();
      await eventually(
        "the 5 kept delivered",
        () => new Set(texts(sub.on(topic))).size === 5,
        30_000,
      );
      assert.deepEqual([...new Set(texts(sub.on(topic)))], ["m4", "m5", "m6", "m7", "m8"]);
      assert.equal(sub.on(`${prefix}/rooms/general/presence`).length, 0);
      alice.close();
    } finally {
      await app.stop();
      await sub.close();
    }
  });

  it("on shutdown, stops ingest first and publishes the last leaves before disconnecting", async () => {
    const prefix = nextPrefix();
    const sub = await Subscriber.open(broker.url, `${prefix}/rooms/+/presence`);
    const app = await startDeviceApp({
      mqtt: { url: broker.url, prefix, ingest: true, queueMax: 100 },
    });
    await eventually("the bridge to connect", () => app.mqtt!.up);
    const users: string[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await LineClient.open(app.ports.tcp!);
      users.push(await c.login());
      await c.join("general");
    }
    await eventually("3 joins", () => sub.got.length === 3);
    await app.stop();
    try {
      await eventually("3 leaves", () => sub.got.length === 6);
      const left = (sub.got.slice(3).map((g) => g.ev) as RoomParticipationEvent[]).map((e) => [
        e.u,
        e.s,
      ]);
      assert.deepEqual(left.sort(), users.map((u) => [u, "left"]).sort());
      assert.equal(app.mqtt!.up, false);
    } finally {
      await sub.close();
    }
  });
});
