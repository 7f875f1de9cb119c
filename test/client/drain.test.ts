// The client library against a draining server and a room closed by a reload: real Parley
// servers in this process on port 0, the client on a manual clock.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp, type App } from "../../src/app.js";
import { defaultConfig } from "../../src/config.js";
import { silentLogger } from "../../src/core/index.js";
import { loadRooms } from "../../src/room-catalog.js";
import type { DisconnectEvent } from "../../src/protocol/index.js";
import { failoverTransport } from "../../clients/lib/failover-transport.js";
import { ParleyClient } from "../../clients/lib/parley-client.js";
import { tcpTransport } from "../../clients/lib/tcp-transport.js";
import { ManualClock, until, waitFor } from "./support.js";

const apps: App[] = [];

async function start(roomsPath: string): Promise<App> {
  const config = defaultConfig();
  config.store = { kind: "memory" };
  config.host = "127.0.0.1";
  config.tcpPort = 0;
  config.lpPort = null;
  config.httpPort = null;
  config.roomsPath = roomsPath;
  config.drainWindowMs = 2_000;
  config.drainTimeoutMs = 10_000;
  config.limits = { ...config.limits, shutdownGraceMs: 500 };
  const app = await startApp({ config, rooms: loadRooms(roomsPath), logger: silentLogger });
  apps.push(app);
  return app;
}

function roomsFile(names: string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), "parley-client-ops-")), "rooms.json");
  writeFileSync(file, JSON.stringify(names.map((name) => ({ name, description: name }))));
  return file;
}

describe("ParleyClient and server operations", () => {
  after(async () => {
    await Promise.all(apps.map((a) => a.stop()));
  });

  it("told to go by a draining server, waits retry_ms, then reconnects to the other server and rejoins", async () => {
    const file = roomsFile(["general", "other"]);
    const a = await start(file);
    const b = await start(file);
    const tcp = (app: App): ReturnType<typeof tcpTransport> =>
      tcpTransport({ host: "127.0.0.1", port: app.ports.tcp! });
    const clock = new ManualClock();
    const client = new ParleyClient({
      transport: failoverTransport([tcp(a), tcp(b)]),
      clock,
      random: () => 0.5,
      heartbeatMs: 0,
    });
    await client.connect();
    assert.equal(client.status.server, tcp(a).description);
    client.join("general");
    await waitFor(client, "joined", (j) => j.room === "general");

    const told = waitFor(client, "event", (ev) => ev._et === "disconnect");
    a.drain("admin");
    const [ev] = await told;
    const dc = ev as DisconnectEvent;
    assert.equal(dc.code, "SERVER_DRAINING");
    assert.equal(dc.reconnect, true);
    assert.equal(typeof dc.retry_ms, "number");
    const retryMs = dc.retry_ms!;
    await until(() => client.status.state === "waiting", 5_000, "the client to wait");
    // the server's delay, not the backoff's (which would be 125 ms with random 0.5)
    assert.equal(client.status.retryAt! - clock.now(), retryMs);
    if (retryMs > 0) {
      clock.advance(retryMs - 1);
      assert.equal(client.status.state, "waiting", "not before retry_ms");
    }
    clock.advance(1);
    await waitFor(client, "ready");
    assert.equal(client.status.server, tcp(b).description, "on the other server");
    await waitFor(client, "joined", (j) => j.room === "general");
    await a.drained;
    await client.close();
  });

  it("drops a room closed by a reload: no longer wanted (not rejoined) nor joinable", async () => {
    const file = roomsFile(["general", "doomed"]);
    const app = await start(file);
    const clock = new ManualClock();
    const client = new ParleyClient({
      transport: tcpTransport({ host: "127.0.0.1", port: app.ports.tcp! }),
      clock,
      random: () => 0.5,
      heartbeatMs: 0,
    });
    await client.connect();
    client.join("general");
    client.join("doomed");
    await waitFor(client, "joined", (j) => j.room === "doomed");
    const closed = waitFor(client, "event", (ev) => ev._et === "room_closed");
    writeFileSync(file, JSON.stringify([{ name: "general", description: "g" }]));
    const outcome = await app.reloadRooms();
    assert.ok(outcome.ok);
    await closed;
    assert.deepEqual(client.rooms, ["general"]);
    assert.deepEqual(
      client.session?.rooms.map((r) => r.n),
      ["general"],
    );
    assert.throws(() => client.send("doomed", "hello?"), /join "doomed" before sending/);
    assert.throws(() => client.join("doomed"), /no room "doomed"/);
    await client.close();
  });
});
