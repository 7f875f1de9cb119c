// The one test suite every Bus backend passes (memory, Redis), so they cannot drift apart.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Bus } from "../../src/core/index.js";

export interface BusFactory {
  /** a new node of the same cluster (each call: another connection to the same bus) */
  node(): Promise<Bus>;
}

/** Waits until `pred` holds (polling), or fails after `ms`. */
export async function eventually(
  pred: () => boolean,
  ms = 5_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function recorder(bus: Bus): Array<[string, string]> {
  const got: Array<[string, string]> = [];
  bus.onMessage((room, payload) => got.push([room, payload]));
  return got;
}

export function busContract(name: string, factory: BusFactory): void {
  describe(`${name} (Bus contract)`, () => {
    it("delivers a room's messages to every node subscribed to it, the publisher included, unchanged", async () => {
      const [a, b, c] = [await factory.node(), await factory.node(), await factory.node()];
      const [ga, gb, gc] = [recorder(a), recorder(b), recorder(c)];
      await a.subscribe("room-1");
      await b.subscribe("room-1");
      const payload = `a payload "quoted" ✓ ${"x".repeat(10_000)}`;
      await a.publish("room-1", payload);
      await eventually(() => ga.length === 1 && gb.length === 1, 5_000, "both subscribers");
      assert.deepEqual(gb[0], ["room-1", payload]);
      assert.deepEqual(ga[0], ["room-1", payload]);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(gc.length, 0, "a node with no interest in the room gets nothing");
      for (const n of [a, b, c]) await n.stop();
    });

    it("routes by interest: a node receives only the rooms it subscribes to, and nothing after it unsubscribes", async () => {
      const [a, b] = [await factory.node(), await factory.node()];
      const gb = recorder(b);
      await b.subscribe("x");
      await a.publish("y", "not for b");
      await a.publish("x", "for b");
      await eventually(() => gb.length === 1, 5_000, "x");
      await b.unsubscribe("x");
      await a.publish("x", "after unsubscribing");
      await b.subscribe("z");
      await a.publish("z", "marker");
      await eventually(() => gb.length === 2, 5_000, "marker");
      assert.deepEqual(
        gb.map((g) => g[1]),
        ["for b", "marker"],
      );
      for (const n of [a, b]) await n.stop();
    });

    it("keeps one publisher's order on every subscriber", async () => {
      const [a, b] = [await factory.node(), await factory.node()];
      const gb = recorder(b);
      await b.subscribe("ordered");
      for (let i = 0; i < 500; i++) void a.publish("ordered", String(i));
      await eventually(() => gb.length === 500, 10_000, "500 messages");
      assert.deepEqual(
        gb.map((g) => Number(g[1])),
        Array.from({ length: 500 }, (_, i) => i),
      );
      for (const n of [a, b]) await n.stop();
    });

    it("keeps rooms apart, whatever their names", async () => {
      const [a, b] = [await factory.node(), await factory.node()];
      const gb = recorder(b);
      const rooms = ["a", "a:b", "{braces}", "ünïcode ☃", "space room"];
      for (const r of rooms) await b.subscribe(r);
      for (const r of rooms) await a.publish(r, `to ${r}`);
      await eventually(() => gb.length === rooms.length, 5_000, "every room");
      for (const [room, payload] of gb) assert.equal(payload, `to ${room}`);
      for (const n of [a, b]) await n.stop();
    });

    it("is up once started", async () => {
      const a = await factory.node();
      assert.equal(a.up, true);
      await a.stop();
    });
  });
}
