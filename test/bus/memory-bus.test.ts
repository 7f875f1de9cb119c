import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MemoryBus, MemoryBusHub } from "../../src/bus/memory-bus.js";
import { busContract, eventually } from "./contract.js";

const hub = new MemoryBusHub();
busContract("MemoryBus", {
  node: async () => {
    const bus = new MemoryBus(hub);
    await bus.start();
    return bus;
  },
});

describe("MemoryBus", () => {
  it("drops what is published while a node is down, and reports down and up", async () => {
    const h = new MemoryBusHub();
    const [a, b] = [new MemoryBus(h), new MemoryBus(h)];
    const status: boolean[] = [];
    b.onStatus((up) => status.push(up));
    const got: string[] = [];
    b.onMessage((_r, p) => got.push(p));
    await b.subscribe("r");
    b.down();
    await a.publish("r", "missed");
    b.upAgain();
    await a.publish("r", "seen");
    await eventually(() => got.length === 1);
    assert.deepEqual(got, ["seen"]);
    assert.deepEqual(status, [false, true]);
  });
});
