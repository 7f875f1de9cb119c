// The durability promise with a real server process and a real SQLite file: every message whose
// echo its sender received is in history after `kill -9` (or SIGTERM) under load, offsets go on
// from where they were, and a resend of an acknowledged message after the restart is not shown
// twice.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Event } from "../../src/protocol/index.js";
import { delay, spawnServer, WireClient } from "../helpers/harness.js";

type Msg = Extract<Event, { _et: "user_message" }>;
type History = Extract<Event, { _et: "history" }>;

const dir = mkdtempSync(join(tmpdir(), "parley-durability-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function start(db: string) {
  const s = await spawnServer([
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--lp-port",
    "off",
    "--store",
    `sqlite:${db}`,
    "--rate",
    "100000",
    "--rate-burst",
    "100000",
  ]);
  return { ...s, port: s.ports.tcp! };
}

/** Every message of `room` in history, read page by page forwards. */
async function allHistory(port: number, room: string): Promise<{ ms: Msg[]; epoch: string }> {
  const c = await WireClient.login(port);
  await c.hello();
  const ms: Msg[] = [];
  let epoch = "";
  for (let after = 0; ;) {
    c.send({ _ct: "history", r: room, after, l: 200 });
    const page = (await c.next("history", 10_000)) as History;
    epoch = page.e;
    ms.push(...page.ms);
    if (!page.more || page.ms.length === 0) break;
    after = page.ms.at(-1)!.id!;
  }
  c.close();
  return { ms, epoch };
}

/** Clients sending numbered messages with cids as fast as their echoes come back. */
async function load(port: number, users: number) {
  const clients: WireClient[] = [];
  for (let i = 0; i < users; i++) {
    const c = await WireClient.login(port);
    c.send({ _ct: "hello", v: 1, k: `key-${i}-${Date.now()}` });
    await c.next("welcome");
    await c.join("general");
    clients.push(c);
  }
  let running = true;
  const acked = new Set<string>();
  const loops = clients.map(async (c, i) => {
    for (let n = 0; running && !c.isClosed; n++) {
      const text = `u${i} m${n}`;
      c.send({ _ct: "send_message", r: "general", c: text, cid: String(n) });
      const echo = await c
        .next((e) => e._et === "user_message" && e.c === text, 5_000)
        .catch(() => undefined);
      if (echo === undefined) return;
      acked.add(text);
    }
  });
  return {
    acked,
    clients,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe("durability", () => {
  for (const signal of ["SIGKILL", "SIGTERM"] as const) {
    it(`keeps every acknowledged message after ${signal === "SIGKILL" ? "kill -9" : "SIGTERM"} under load, and offsets go on`, async () => {
      const db = join(dir, `${signal}.db`);
      const first = await start(db);
      const before = await allHistory(first.port, "general");
      const traffic = await load(first.port, 6);
      await delay(1_500);
      first.proc.kill(signal);
      await first.exited;
      await traffic.stop();
      for (const c of traffic.clients) c.close();
      assert.ok(traffic.acked.size > 100, `only ${traffic.acked.size} messages acknowledged`);

      const second = await start(db);
      try {
        const { ms, epoch } = await allHistory(second.port, "general");
        assert.equal(epoch, before.epoch, "same history, same epoch");
        const stored = new Set(ms.map((m) => m.c));
        const missing = [...traffic.acked].filter((t) => !stored.has(t));
        assert.deepEqual(missing, [], `${missing.length} acknowledged messages not in history`);
        ms.forEach((m, i) => assert.equal(m.id, i + 1, "offsets gap-free from 1"));
        // the next message continues the offsets
        const c = await WireClient.login(second.port);
        await c.join("general");
        c.send({ _ct: "send_message", r: "general", c: "after the restart" });
        const next = (await c.next("user_message")) as Msg;
        assert.equal(next.id, ms.length + 1);
        c.close();
      } finally {
        second.proc.kill("SIGTERM");
        await second.exited;
      }
    });
  }

  it("does not show a resend twice after a restart: the dedup memory is durable", async () => {
    const db = join(dir, "dedup.db");
    const first = await start(db);
    const key = `k-${Date.now()}`;
    const a = await WireClient.login(first.port);
    a.send({ _ct: "hello", v: 1, k: key });
    await a.next("welcome");
    await a.join("general");
    a.send({ _ct: "send_message", r: "general", c: "exactly once", cid: "42" });
    const original = (await a.next("user_message")) as Msg;
    first.proc.kill("SIGTERM");
    await first.exited;

    const second = await start(db);
    try {
      const watcher = await WireClient.login(second.port);
      await watcher.join("general");
      const again = await WireClient.login(second.port);
      again.send({ _ct: "hello", v: 1, k: key });
      await again.next("welcome");
      await again.join("general");
      again.send({ _ct: "send_message", r: "general", c: "exactly once", cid: "42" });
      const echo = (await again.next("user_message")) as Msg;
      assert.equal(echo.id, original.id, "the resend is answered with the original");
      again.send({ _ct: "send_message", r: "general", c: "fresh", cid: "43" });
      await watcher.next((e) => e._et === "user_message" && e.c === "fresh");
      assert.equal(
        watcher.events.filter((e) => e._et === "user_message" && e.c === "exactly once").length,
        0,
        "nobody saw it again",
      );
      watcher.close();
      again.close();
    } finally {
      second.proc.kill("SIGTERM");
      await second.exited;
    }
  });
});
