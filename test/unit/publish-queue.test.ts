import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PublishQueue } from "../../src/bridge/publish-queue.js";
import { MqttTopics, validTopicPrefix } from "../../src/bridge/mqtt-topics.js";
import { ReconnectDelay } from "../../src/bridge/reconnect-delay.js";

const drain = (q: PublishQueue): string[] => {
  const out: string[] = [];
  for (let p = q.next(); p !== undefined; p = q.next()) out.push(p.payload);
  return out;
};

describe("PublishQueue", () => {
  it("keeps a publication until its ack, and sends the unacknowledged again in order after a rewind", () => {
    const q = new PublishQueue(10);
    for (const x of ["a", "b", "c", "d"]) q.push("t", x);
    const sent = [q.next()!, q.next()!, q.next()!];
    assert.equal(q.ack(sent[1]!), true); // b acked out of order: a still heads the queue
    assert.equal(q.depth, 4);
    assert.equal(q.ack(sent[0]!), true);
    assert.equal(q.depth, 2); // a and b gone
    q.rewind();
    assert.deepEqual(drain(q), ["c", "d"]);
    assert.equal(q.ack(sent[0]!), false, "a second ack of one publication counts once");
  });

  it("drops the oldest past its capacity and reports it", () => {
    const q = new PublishQueue(3);
    const dropped = ["a", "b", "c", "d", "e"].map((x) => q.push("t", x));
    assert.deepEqual(dropped, [0, 0, 0, 1, 1]);
    assert.equal(q.depth, 3);
    assert.deepEqual(drain(q), ["c", "d", "e"]);
  });
});

describe("MqttTopics", () => {
  it("percent-encodes the characters that would change a topic's levels, and reads ingest topics back", () => {
    const t = new MqttTopics("parley");
    assert.equal(t.messages("a/b+c#d%e"), "parley/rooms/a%2Fb%2Bc%23d%25e/messages");
    assert.equal(t.roomOfIngest("parley/rooms/a%2Fb%2Bc%23d%25e/in"), "a/b+c#d%e");
    assert.equal(t.roomOfIngest("parley/rooms/general/in"), "general");
    assert.equal(t.roomOfIngest("parley/rooms/a/b/in"), undefined);
    assert.equal(t.roomOfIngest("other/rooms/general/in"), undefined);
    assert.equal(t.roomOfIngest("parley/rooms/%E0%A4/in"), undefined);
    assert.equal(t.ingestFilter("parley"), "$share/parley/parley/rooms/+/in");
  });

  it("accepts prefixes of plain levels only", () => {
    assert.ok(validTopicPrefix("parley"));
    assert.ok(validTopicPrefix("site-1/parley"));
    for (const bad of ["", "/parley", "parley/", "a//b", "a/+", "a/#", "$SYS"]) {
      assert.equal(validTopicPrefix(bad), false, bad);
    }
  });
});

describe("ReconnectDelay", () => {
  it("grows exponentially to its cap, jittered within the upper half, and starts over after a reset", () => {
    const d = new ReconnectDelay(500, 4_000, () => 0);
    assert.deepEqual(
      [d.next(), d.next(), d.next(), d.next(), d.next()],
      [250, 500, 1_000, 2_000, 2_000],
    );
    const top = new ReconnectDelay(500, 4_000, () => 0.999);
    assert.deepEqual(
      [top.next(), top.next(), top.next(), top.next(), top.next()],
      [499, 999, 1_999, 3_998, 3_998],
    );
    d.reset();
    assert.equal(d.next(), 250);
  });
});
