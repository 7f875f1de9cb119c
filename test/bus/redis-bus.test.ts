import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { RedisBus } from "../../src/bus/redis-bus.js";
import type { Bus } from "../../src/core/index.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import { busContract, eventually } from "./contract.js";

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.close();
});

busContract("RedisBus", {
  node: async () => {
    const bus = new RedisBus({ url: redis.url });
    await bus.start();
    return bus;
  },
});

describe("RedisBus", () => {
  it("uses sharded pub/sub: SPUBLISH once per message, a channel per room, subscribed only while interested", async () => {
    const a = new RedisBus({ url: redis.url, prefix: "t1" });
    const b = new RedisBus({ url: redis.url, prefix: "t1" });
    await a.start();
    await b.start();
    await redis.cli("CONFIG", "RESETSTAT");
    await b.subscribe("room");
    const channels = await redis.cli("PUBSUB", "SHARDCHANNELS", "t1:*");
    assert.deepEqual(channels.trim().split("\n"), ["t1:{room}"]);
    const got: string[] = [];
    b.onMessage((_r, p) => got.push(p));
    for (let i = 0; i < 10; i++) await a.publish("room", `m${i}`);
    await eventually(() => got.length === 10);
    const stats = await redis.cli("INFO", "commandstats");
    assert.match(stats, /cmdstat_spublish:calls=10,/);
    assert.doesNotMatch(stats, /cmdstat_publish:/);
    await b.unsubscribe("room");
    assert.equal((await redis.cli("PUBSUB", "SHARDCHANNELS", "t1:*")).trim(), "");
    await a.stop();
    await b.stop();
  });

  it("stops at start with a clear error when Redis cannot be reached", async () => {
    const bus = new RedisBus({ url: "redis://127.0.0.1:1" });
    await assert.rejects(bus.start(), /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });

  it("reports an outage, rejects publishes meanwhile, and resubscribes by itself when Redis is back", async () => {
    const a = new RedisBus({ url: redis.url, prefix: "t2" });
    const b = new RedisBus({ url: redis.url, prefix: "t2" });
    await a.start();
    await b.start();
    const status: boolean[] = [];
    b.onStatus((up) => status.push(up));
    const got: string[] = [];
    b.onMessage((_r, p) => got.push(p));
    await b.subscribe("room");
    await redis.stop();
    await eventually(() => !a.up && !b.up, 10_000, "both down");
    await assert.rejects(a.publish("room", "during the outage"));
    await redis.start();
    await eventually(() => a.up && b.up, 15_000, "both up again");
    await a.publish("room", "after");
    await eventually(() => got.length === 1, 5_000, "the message after the outage");
    assert.deepEqual(got, ["after"]);
    assert.deepEqual(status, [false, true]);
    await a.stop();
    await b.stop();
  });

  it("never leaves an unhandled error when Redis goes away", async () => {
    const buses: Bus[] = [new RedisBus({ url: redis.url })];
    await buses[0]!.start();
    await redis.stop();
    await new Promise((r) => setTimeout(r, 500));
    await redis.start();
    await eventually(() => buses[0]!.up, 15_000, "back up");
    await buses[0]!.stop();
  });
});
