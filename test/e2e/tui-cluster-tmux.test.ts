// A TUI in a real terminal (tmux) given both nodes of a real cluster (two Parley processes,
// redis-server and PostgreSQL, all started here): its node is killed with SIGKILL while another
// user talks, and it goes on on the other node.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Event } from "../../src/protocol/index.js";
import { delay, WireClient } from "../helpers/harness.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import { type ClusterNode, startNodes } from "./support/cluster-nodes.js";
import { Tmux, until } from "./support/tmux.js";

let t: Tmux;
let redis: TestRedis;
let pg: TestPostgres;
let nodes: ClusterNode[] = [];

before(async () => {
  [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
  // tall enough for every message of the test on one screen
  t = new Tmux("main", { width: 160, height: 60 });
});
after(async () => {
  t?.close();
  await Promise.all(nodes.map((n) => n.kill()));
  await Promise.allSettled([redis?.close(), pg?.stop()]);
});

describe("parley-tui given the addresses of a cluster's nodes", () => {
  it("when its node is killed (kill -9) while another user talks, goes on on the other node: every message shown once, in order, and its own still get through", async () => {
    nodes = await startNodes(2, { redis, pg });
    const [n0, n1] = nodes as [ClusterNode, ClusterNode];
    const at = (n: ClusterNode): string => `127.0.0.1:${n.tcp}`;
    // the list as a bare argument (--server takes the same)
    t.startTui("alice", `${at(n0)},${at(n1)} --name alice`);
    await t.ready("alice", "● online");
    await t.shows("alice", `Server: ${at(n0)}`);
    t.type("alice", "/join general");
    await t.shows("alice", "alice has joined the room");

    // walt is on the other node, which stays up
    const walt = await WireClient.login(n1.tcp);
    await walt.hello("walt");
    await walt.join("general");
    await t.shows("alice", "walt has joined the room");
    const texts = Array.from(
      { length: 30 },
      (_, i) => `m${String(i + 1).padStart(2, "0")} by walt`,
    );
    for (const [i, text] of texts.entries()) {
      walt.send({ _ct: "send_message", r: "general", c: text });
      if (i === 9) {
        // alice gets them live from her node, then it dies mid-stream
        await t.shows("alice", `@walt: ${texts[5]}`);
        await n0.kill();
      }
      // the first few after the kill at once: they are sent while alice is away, for her
      // resume on the other node to fill in
      if (i < 9 || i > 14) await delay(50);
    }

    await t.shows("alice", `@walt: ${texts.at(-1)}`);
    await t.shows("alice", `Server: ${at(n1)}`);
    await t.shows("alice", "● online");
    const screen = t.screen("alice");
    const found = texts.map((text) => ({ text, n: screen.split(`@walt: ${text}`).length - 1 }));
    assert.deepEqual(
      found.filter((f) => f.n !== 1),
      [],
      `every message exactly once; screen:\n${screen}`,
    );
    const where = texts.map((text) => screen.indexOf(`@walt: ${text}`));
    assert.ok(
      where.every((p, i) => i === 0 || p > where[i - 1]!),
      `in order; screen:\n${screen}`,
    );

    // alice still talks, through the other node
    t.type("alice", "alice, now on the other node");
    const heard = (e: Event): boolean =>
      e._et === "user_message" && e.c === "alice, now on the other node";
    await walt.next(heard, 30_000);
    await until(
      () =>
        t.count("alice", "alice, now on the other node") === 1 &&
        t.count("alice", "(sending…)") === 0,
      () => `her message confirmed, once; screen:\n${t.screen("alice")}`,
    );
    walt.close();
    t.type("alice", "/quit");
    assert.equal(await t.exitStatus("alice"), "0");
    await n1.stop();
  });
});
