// The external publish path (ExternalPublisher, used by MQTT ingest and the UDP endpoint) against
// a real PostgreSQL store that is taken down and brought back: a post resolves only once stored,
// is refused with STORE_UNAVAILABLE (and reaches nobody) while the store fails, and works again
// once it recovers.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PostError } from "../../src/core/index.js";
import { parseStoreSetting } from "../../src/store/open-store.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { LineClient } from "./support/chat-clients.js";
import { eventually, startDeviceApp } from "./support/device-app.js";

describe("posting into a room as a device (ExternalPublisher)", () => {
  let pg: TestPostgres;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg.stop();
  });

  it("resolves once stored, refuses with STORE_UNAVAILABLE while the store is down, and recovers", async () => {
    const app = await startDeviceApp({
      store: parseStoreSetting(await pg.createDatabase("ext_post")),
    });
    try {
      const member = await LineClient.open(app.ports.tcp!);
      await member.login();
      await member.join("general");
      const post = (text: string, cid?: string) =>
        app.chat.external.post({
          room: "general",
          user: "probe-1",
          text,
          ...(cid !== undefined && { key: "test:probe-1", cid }),
        });

      const first = await post("stored", "c1");
      assert.deepEqual([first.offset, first.duplicate], [1, false]);
      assert.equal(app.chat.log.stream("general").committed, 1, "resolved only once committed");
      const seen = await member.waitFor("user_message", (e) => e.c === "stored");
      assert.equal(seen.id, 1);
      const again = await post("stored", "c1");
      assert.deepEqual([again.offset, again.duplicate], [1, true]);

      await assert.rejects(
        app.chat.external.post({ room: "no-such-room", user: "probe-1", text: "x" }),
        (e: unknown) => e instanceof PostError && e.code === "ROOM_NOT_FOUND",
      );
      await assert.rejects(
        post("x".repeat(5_000)),
        (e: unknown) => e instanceof PostError && e.code === "MESSAGE_TOO_LONG",
      );

      await pg.takeDown();
      await assert.rejects(
        post("while down"),
        (e: unknown) => e instanceof PostError && e.code === "STORE_UNAVAILABLE",
      );
      // now known to be failing: refused at once
      await assert.rejects(
        post("still down"),
        (e: unknown) => e instanceof PostError && e.code === "STORE_UNAVAILABLE",
      );

      await pg.bringUp();
      await eventually("the store to recover", () => app.chat.log.storeHealthy, 30_000);
      const back = await post("after");
      assert.equal(back.duplicate, false);
      await member.waitFor("user_message", (e) => e.c === "after", 10_000);
      const texts = member.events
        .filter((e) => e._et === "user_message")
        .map((e) => (e as { c: string }).c);
      assert.deepEqual(texts, ["stored", "after"], "what could not be stored reached nobody");
      member.close();
    } finally {
      await app.stop();
    }
  });
});
