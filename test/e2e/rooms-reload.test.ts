// Rooms reload on SIGHUP, against a real server process with a rooms file the test rewrites.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Event } from "../../src/protocol/index.js";
import { spawnServer, WireClient } from "../helpers/harness.js";

type Spec = { name: string; description: string };

function roomsFile(rooms: Spec[]): string {
  const file = join(mkdtempSync(join(tmpdir(), "parley-reload-")), "rooms.json");
  writeFileSync(file, JSON.stringify(rooms));
  return file;
}

/** Waits until the server's output holds `pattern` (bounded). */
async function logged(output: () => string, pattern: RegExp, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(output())) {
    if (Date.now() > deadline) throw new Error(`not logged: ${pattern}\n${output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function roomList(c: WireClient): Promise<Array<{ n: string; d: string; m: number }>> {
  c.send({ _ct: "list_rooms" });
  const ev = await c.next("room_list");
  assert.ok(ev._et === "room_list");
  return ev.rs;
}

describe("rooms reload on SIGHUP", () => {
  it("adds rooms, changes descriptions, and closes removed rooms: members told and removed, history kept", async () => {
    const file = roomsFile([
      { name: "alpha", description: "a" },
      { name: "beta", description: "b" },
      { name: "gamma", description: "g1" },
    ]);
    const server = await spawnServer(["--host", "127.0.0.1", "--port", "0", "--rooms", file]);
    try {
      const port = server.ports.tcp!;
      const ext = await WireClient.login(port);
      await ext.hello();
      const orig = await WireClient.login(port);
      const other = await WireClient.login(port);
      await other.hello();
      await ext.join("beta");
      await orig.join("beta");
      await other.join("alpha");
      ext.send({ _ct: "send_message", r: "beta", c: "said before the reload" });
      await orig.next((e) => e._et === "user_message" && e.c === "said before the reload");

      writeFileSync(
        file,
        JSON.stringify([
          { name: "alpha", description: "a" },
          { name: "gamma", description: "g2" },
          { name: "delta", description: "new" },
        ]),
      );
      server.proc.kill("SIGHUP");

      // the extension member: room_closed, then its own left
      const closed = await ext.next("room_closed");
      assert.equal(closed._et === "room_closed" && closed.r, "beta");
      await ext.next(
        (e) =>
          e._et === "room_participation" && e.r === "beta" && e.u === ext.userId && e.s === "left",
      );
      // the original member: its own left (an original event), and no extension event
      await orig.next(
        (e) =>
          e._et === "room_participation" && e.r === "beta" && e.u === orig.userId && e.s === "left",
      );
      await logged(server.output, /"rooms reloaded"/);
      assert.match(
        server.output(),
        /"added":\["delta"\],"removed":\["beta"\],"changed":\["gamma"\]/,
      );

      // the new set: list_rooms and new logins; the member of a kept room is untouched
      assert.deepEqual(await roomList(ext), [
        { n: "alpha", d: "a", m: 1 },
        { n: "gamma", d: "g2", m: 0 },
        { n: "delta", d: "new", m: 0 },
      ]);
      const late = await WireClient.login(port);
      assert.deepEqual(
        late.login.rs.map((r) => r.n),
        ["alpha", "gamma", "delta"],
      );
      await late.join("delta");
      assert.ok(
        other.events.every(
          (e) => e._et !== "room_closed" && !(e._et === "room_participation" && e.s === "left"),
        ),
        "a member of a kept room is not told anything",
      );

      // the closed room is gone for commands; both clients are still connected
      ext.send({ _ct: "send_message", r: "beta", c: "too late" });
      const err = await ext.next("error");
      assert.equal(err._et === "error" && err.code, "ROOM_NOT_FOUND");
      await orig.join("alpha");
      assert.ok(
        orig.events.every((e: Event) =>
          ["login_successful", "user_joined_room", "room_participation", "user_message"].includes(
            e._et,
          ),
        ),
        "an original client got only original events",
      );

      // added back: its history is still there
      writeFileSync(
        file,
        JSON.stringify([
          { name: "alpha", description: "a" },
          { name: "beta", description: "back" },
        ]),
      );
      server.proc.kill("SIGHUP");
      await logged(server.output, /"added":\["beta"\],"removed":\["gamma","delta"\]/);
      // delta's member was told too
      await late.next((e) => e._et === "room_participation" && e.r === "delta" && e.s === "left");
      ext.send({ _ct: "history", r: "beta" });
      const page = await ext.next("history");
      assert.ok(page._et === "history");
      assert.deepEqual(
        page.ms.map((m) => m.c),
        ["said before the reload"],
      );
      for (const c of [ext, orig, other, late]) c.close();
    } finally {
      server.proc.kill("SIGTERM");
      assert.equal(await server.exited, 0, server.output());
    }
  });

  it("keeps the old rooms when the file is broken, logs why, counts it, and keeps serving", async () => {
    const file = roomsFile([
      { name: "alpha", description: "a" },
      { name: "beta", description: "b" },
    ]);
    const server = await spawnServer([
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--http-port",
      "0",
      "--rooms",
      file,
    ]);
    try {
      const port = server.ports.tcp!;
      const member = await WireClient.login(port);
      await member.hello();
      await member.join("beta");

      writeFileSync(file, '[{"name": "alpha", "description": "a"},');
      server.proc.kill("SIGHUP");
      await logged(server.output, /"rooms reload refused: old rooms kept"/);
      assert.ok(server.output().includes(file), "the log names the file");
      assert.match(server.output(), /invalid JSON/);

      writeFileSync(
        file,
        JSON.stringify([
          { name: "x", description: "1" },
          { name: "x", description: "2" },
        ]),
      );
      server.proc.kill("SIGHUP");
      await logged(server.output, /duplicate room name \\"x\\"/);

      // nothing changed: the member is still in beta and can talk there; new logins work
      assert.ok(member.events.every((e) => e._et !== "room_closed"));
      member.send({ _ct: "send_message", r: "beta", c: "still here" });
      await member.next((e) => e._et === "user_message" && e.c === "still here");
      const late = await WireClient.login(port);
      assert.deepEqual(
        late.login.rs.map((r) => r.n),
        ["alpha", "beta"],
      );
      await late.join("beta");

      const metrics = await (await fetch(`http://127.0.0.1:${server.ports.http}/metrics`)).text();
      assert.match(metrics, /parley_reloads_total\{result="invalid"\} 2/);
      assert.match(metrics, /parley_reloads_total\{result="ok"\} 0/);
      member.close();
      late.close();
    } finally {
      server.proc.kill("SIGTERM");
      assert.equal(await server.exited, 0, server.output());
    }
  });
});
