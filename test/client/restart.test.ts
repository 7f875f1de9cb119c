// The client library across a real server restart (a process on a SQLite file, SIGTERM or kill -9
// while a member keeps sending, started again on the same ports): readers over every transport
// end with exactly the room's stored history, in order, nothing missing and nothing twice.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Event } from "../../src/protocol/index.js";
import { spawnServer, WireClient } from "../helpers/harness.js";
import {
  consecutive,
  keepSending,
  portOf,
  range,
  Reader,
  received,
  ROOM,
  sendAll,
  sender,
  transportTo,
  TRANSPORTS,
  type Ports,
} from "./history-support.js";
import { until } from "./support.js";

type Msg = Extract<Event, { _et: "user_message" }>;

const dir = mkdtempSync(join(tmpdir(), "parley-client-restart-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function start(db: string, ports?: Ports) {
  const s = await spawnServer([
    "--host",
    "127.0.0.1",
    "--port",
    String(ports?.tcp ?? 0),
    "--lp-port",
    String(ports?.lp ?? 0),
    "--http-port",
    String(ports?.http ?? 0),
    "--store",
    `sqlite:${db}`,
  ]);
  const p = s.ports as Partial<Ports>;
  return { ...s, ports: { tcp: p.tcp!, lp: p.lp!, http: p.http! } };
}

/** Every message of the room as stored, read page by page forwards. */
async function stored(port: number): Promise<Msg[]> {
  const c = await WireClient.login(port);
  await c.hello();
  const ms: Msg[] = [];
  for (let after = 0; ;) {
    c.send({ _ct: "history", r: ROOM, after, l: 200 });
    const page = await c.next("history", 10_000);
    if (page._et !== "history") throw new Error("not a history page");
    ms.push(...page.ms);
    if (!page.more || page.ms.length === 0) break;
    after = page.ms.at(-1)!.id!;
  }
  c.close();
  return ms;
}

describe("ParleyClient across a server restart (SQLite)", () => {
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    it(`after ${signal === "SIGKILL" ? "kill -9" : "SIGTERM"} while a member sends, readers over every transport get the stored history exactly, in order, once`, async () => {
      const db = join(dir, `${signal}.db`);
      const first = await start(db);
      const ports = first.ports;
      const readers = TRANSPORTS.map(
        (kind) => new Reader(transportTo(kind, portOf(kind, ports)), { historyOnJoin: 0 }),
      );
      for (const r of readers) {
        await r.client.connect();
        await r.join();
      }
      const talker = await sender(ports.tcp);
      const pump = keepSending(talker, "before ");
      await until(
        () => readers.every((r) => r.messages.length >= 30),
        15_000,
        "30 messages at every reader",
      );
      first.proc.kill(signal);
      await first.exited;
      await pump.stop();
      talker.close();
      for (const r of readers) await r.down();

      const second = await start(db, ports);
      try {
        // Others talk on before the readers are back: their rejoins must bring it.
        const again = await sender(ports.tcp);
        sendAll(again, range(20, "while away "));
        await until(() => received(again).length === 20, 10_000, "20 messages after the restart");
        for (const r of readers) {
          const back = await r.reconnect();
          assert.equal(back.status, "exact", "same store, same epoch: nothing lost");
          assert.ok(back.replayed >= 20, `replayed ${back.replayed}`);
        }
        sendAll(again, ["end"]);
        for (const r of readers) await r.receives("end");
        again.close();

        const history = await stored(ports.tcp);
        assert.ok(history.length >= 51, `${history.length} messages stored`);
        for (const [i, r] of readers.entries()) {
          const what = `reader over ${TRANSPORTS[i]}`;
          assert.deepEqual(
            r.texts(),
            history.map((m) => m.c),
            `${what}: the stored history`,
          );
          assert.ok(consecutive(r.ids()), `${what}: offsets 1, 2, 3... once each`);
        }
        await Promise.all(readers.map((r) => r.client.close()));
      } finally {
        second.proc.kill("SIGTERM");
        await second.exited;
      }
    });
  }
});
