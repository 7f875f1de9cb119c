import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { App } from "../../src/app.js";
import { ParleyClient } from "../../clients/lib/parley-client.js";
import { tcpTransport } from "../../clients/lib/tcp-transport.js";
import { LineClient } from "../e2e/support/chat-clients.js";
import { startParley, waitFor } from "./support.js";

const apps: App[] = [];
after(async () => {
  await Promise.all(apps.map((a) => a.stop()));
});

describe("ParleyClient own messages", () => {
  it("keeps a message pending when another client's message with the same cid arrives first", async () => {
    // One command per second after a burst of 3 (hello, join, first message): alice's second
    // message waits about a second in the server's socket, unread, while bob's goes through.
    const app = await startParley({}, { ratePerSec: 1, rateBurst: 3 });
    apps.push(app);
    const alice = new ParleyClient({
      transport: tcpTransport({ host: "127.0.0.1", port: app.ports.tcp! }),
      heartbeatMs: 0,
    });
    await alice.connect();
    const joined = waitFor(alice, "event", (ev) => ev._et === "user_joined_room");
    alice.join("general");
    await joined;
    const first = waitFor(alice, "event", (ev) => ev._et === "user_message" && ev.c === "a1");
    alice.send("general", "a1");
    await first;

    const cid = alice.send("general", "a2");
    const bob = await LineClient.open(app.ports.tcp!);
    await bob.waitFor("login_successful");
    await bob.join("general");
    const other = waitFor(
      alice,
      "event",
      (ev) => ev._et === "user_message" && ev.c === "same cid, other sender",
    );
    bob.send({ _ct: "send_message", r: "general", c: "same cid, other sender", cid });
    const [imposter] = await other;
    assert.equal(imposter._et === "user_message" && alice.isOwn(imposter), false);
    assert.deepEqual(
      alice.pending.map((e) => [e.cid, e.text]),
      [[cid, "a2"]],
    );

    const [echo] = await waitFor(
      alice,
      "event",
      (ev) => ev._et === "user_message" && ev.c === "a2",
    );
    assert.equal(echo._et === "user_message" && alice.isOwn(echo), true);
    assert.equal(alice.pending.length, 0);
    bob.close();
    await alice.close();
  });
});
