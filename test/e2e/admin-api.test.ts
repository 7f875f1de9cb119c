// The admin HTTP API against a real server process (token from PARLEY_ADMIN_TOKEN).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Event } from "../../src/protocol/index.js";
import { spawnServer, WireClient } from "../helpers/harness.js";

const TOKEN = "test-admin-token-0123456789";

type Server = Awaited<ReturnType<typeof spawnServer>>;
type Client = Awaited<ReturnType<typeof WireClient.login>>;

describe("admin HTTP API", () => {
  let server: Server;
  let rooms: string;
  const clients: WireClient[] = [];

  const call = async (
    method: string,
    path: string,
    options: { token?: string | null; body?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; json: Record<string, unknown> }> => {
    const token = options.token === undefined ? TOKEN : options.token;
    const res = await fetch(`http://127.0.0.1:${server.ports.http}${path}`, {
      method,
      headers: {
        ...(token !== null && { authorization: `Bearer ${token}` }),
        ...(options.body !== undefined && { "content-type": "application/json" }),
        ...options.headers,
      },
      ...(options.body !== undefined && { body: options.body }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const errorCode = (json: Record<string, unknown>): unknown =>
    (json.error as { code?: unknown } | undefined)?.code;

  const login = async (ext: boolean): Promise<Client> => {
    const c = await WireClient.login(server.ports.tcp!);
    if (ext) await c.hello();
    clients.push(c);
    return c;
  };

  before(async () => {
    rooms = join(mkdtempSync(join(tmpdir(), "parley-admin-")), "rooms.json");
    writeFileSync(
      rooms,
      JSON.stringify([
        { name: "lobby", description: "l" },
        { name: "ops", description: "o" },
      ]),
    );
    server = await spawnServer(
      [
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--http-port",
        "0",
        "--rooms",
        rooms,
        "--drain-window-ms",
        "0",
      ],
      { PARLEY_ADMIN_TOKEN: TOKEN },
    );
  });
  after(() => {
    for (const c of clients) c.close();
    if (server.proc.exitCode === null && server.proc.signalCode === null)
      server.proc.kill("SIGKILL");
  });

  it("answers 401 without a token, with a wrong one, or with another scheme, and counts them", async () => {
    for (const headers of [
      {} as Record<string, string>,
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: "Bearer short" },
      { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString("base64")}` },
    ]) {
      const r = await call("GET", "/admin/sessions", { token: null, headers });
      assert.equal(r.status, 401);
      assert.equal(errorCode(r.json), "UNAUTHORIZED");
    }
    // not even the routes are told apart without the token
    const unknown = await call("POST", "/admin/nothing-here", { token: "wrong" });
    assert.equal(unknown.status, 401);
    const metrics = await (await fetch(`http://127.0.0.1:${server.ports.http}/metrics`)).text();
    assert.match(metrics, /parley_admin_requests_total\{action="sessions",status="401"\} 4/);
    assert.match(metrics, /parley_admin_requests_total\{action="other",status="401"\} 1/);
  });

  it("lists the sessions with their user, name, transport, address, rooms, start and queue", async () => {
    const a = await login(true);
    await a.join("lobby");
    await a.join("ops");
    const b = await login(false);
    const r = await call("GET", "/admin/sessions");
    assert.equal(r.status, 200);
    const sessions = r.json.sessions as Array<Record<string, unknown>>;
    const mine = sessions.find((s) => s.user === a.userId);
    assert.ok(mine, JSON.stringify(sessions));
    assert.equal(mine.id, a.login.s);
    assert.equal(mine.name, a.userId);
    assert.equal(mine.transport, "tcp");
    assert.equal(mine.remote, "127.0.0.1");
    assert.deepEqual(mine.rooms, ["lobby", "ops"]);
    assert.equal(mine.extended, true);
    assert.equal(typeof mine.queue_bytes, "number");
    const since = Date.parse(mine.connected_since as string);
    assert.ok(
      Math.abs(Date.now() - since) < 60_000,
      `connected_since ${String(mine.connected_since)}`,
    );
    const other = sessions.find((s) => s.user === b.userId);
    assert.deepEqual(other?.rooms, []);
    assert.equal(other?.extended, false);
  });

  it("kicks a session: it is told KICKED without reconnect and closed; its rooms see it leave", async () => {
    const victim = await login(true);
    const witness = await login(true);
    await victim.join("lobby");
    await witness.join("lobby");
    const id = victim.login.s;
    const r = await call("POST", `/admin/sessions/${id}/kick`, {
      body: JSON.stringify({ message: "be nice" }),
    });
    assert.equal(r.status, 200);
    assert.equal(r.json.kicked, id);
    const bye = await victim.next("disconnect");
    assert.ok(bye._et === "disconnect");
    assert.equal(bye.code, "KICKED");
    assert.equal(bye.reconnect, false);
    assert.equal(bye.message, "be nice");
    await victim.closed;
    await witness.next(
      (e) => e._et === "room_participation" && e.u === victim.userId && e.s === "left",
    );
    const again = await call("POST", `/admin/sessions/${id}/kick`);
    assert.equal(again.status, 404);
    assert.equal(errorCode(again.json), "SESSION_NOT_FOUND");
  });

  it("sends a notice to a room's extension members only, not stored as a message", async () => {
    const ext = await login(true);
    const orig = await login(false);
    const outsider = await login(true);
    await ext.join("ops");
    await orig.join("ops");
    await outsider.join("lobby");
    // sessions of earlier tests may be in the room too: every extension member is counted
    const listed = (await call("GET", "/admin/sessions")).json.sessions as Array<{
      rooms: string[];
      extended: boolean;
    }>;
    const extMembers = listed.filter((s) => s.extended && s.rooms.includes("ops")).length;
    assert.ok(extMembers >= 1);
    const r = await call("POST", "/admin/rooms/ops/notice", {
      body: JSON.stringify({ text: "maintenance at 22:00" }),
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { room: "ops", delivered: extMembers });
    const n = await ext.next("notice");
    assert.ok(n._et === "notice");
    assert.equal(n.r, "ops");
    assert.equal(n.c, "maintenance at 22:00");
    assert.equal(typeof n.ts, "number");
    // a ping answered after it shows that nothing else is on its way to the others
    for (const c of [outsider]) {
      c.send({ _ct: "ping", t: "after" });
      await c.next("pong");
    }
    orig.send({ _ct: "send_message", r: "ops", c: "marker" });
    await orig.next((e) => e._et === "user_message" && e.c === "marker");
    assert.ok(
      outsider.events.every((e: Event) => e._et !== "notice"),
      "not to another room",
    );
    assert.ok(
      orig.events.every((e: Event) => e._et !== "notice"),
      "not to an original client",
    );
    ext.send({ _ct: "history", r: "ops" });
    const page = await ext.next("history");
    assert.ok(page._et === "history");
    assert.deepEqual(
      page.ms.map((m) => m.c),
      ["marker"],
      "the notice is not in the room's history",
    );
  });

  it("refuses bad requests with stable codes", async () => {
    const cases: Array<
      [string, string, { body?: string; headers?: Record<string, string> }, number, string]
    > = [
      ["POST", "/admin/rooms/nowhere/notice", { body: '{"text":"x"}' }, 404, "ROOM_NOT_FOUND"],
      ["POST", "/admin/rooms/ops/notice", { body: "{}" }, 400, "BAD_REQUEST"],
      ["POST", "/admin/rooms/ops/notice", { body: '{"text":""}' }, 400, "BAD_REQUEST"],
      ["POST", "/admin/rooms/ops/notice", { body: '{"text":42}' }, 400, "BAD_REQUEST"],
      ["POST", "/admin/rooms/ops/notice", { body: '{"text":' }, 400, "BAD_JSON"],
      ["POST", "/admin/rooms/ops/notice", { body: "[1]" }, 400, "BAD_REQUEST"],
      [
        "POST",
        "/admin/rooms/ops/notice",
        { body: JSON.stringify({ text: "x".repeat(20_000) }) },
        413,
        "BODY_TOO_LARGE",
      ],
      ["POST", "/admin/rooms/%E0%A4%A/notice", { body: '{"text":"x"}' }, 400, "BAD_REQUEST"],
      ["GET", "/admin/reload", {}, 405, "METHOD_NOT_ALLOWED"],
      ["POST", "/admin/sessions", {}, 405, "METHOD_NOT_ALLOWED"],
      ["GET", "/admin/nothing-here", {}, 404, "NOT_FOUND"],
    ];
    for (const [method, path, options, status, code] of cases) {
      const r = await call(method, path, options);
      assert.equal(r.status, status, `${method} ${path} ${options.body?.slice(0, 20)}`);
      assert.equal(errorCode(r.json), code, `${method} ${path}`);
    }
  });

  it("reloads the rooms file: 200 with what changed, 422 and the old rooms kept for a bad file", async () => {
    const member = await login(true);
    await member.join("ops");
    writeFileSync(
      rooms,
      JSON.stringify([
        { name: "lobby", description: "l" },
        { name: "new", description: "n" },
      ]),
    );
    const r = await call("POST", "/admin/reload");
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { ok: true, rooms: 2, added: ["new"], removed: ["ops"], changed: [] });
    const closed = await member.next("room_closed");
    assert.equal(closed._et === "room_closed" && closed.r, "ops");

    writeFileSync(rooms, "not json");
    const bad = await call("POST", "/admin/reload");
    assert.equal(bad.status, 422);
    assert.equal(errorCode(bad.json), "ROOMS_INVALID");
    assert.match((bad.json.error as { message: string }).message, /invalid JSON/);
    const late = await login(false);
    assert.deepEqual(
      late.login.rs.map((x) => x.n),
      ["lobby", "new"],
    );
  });

  it("drains: 202, /readyz 503, sessions told, and the process exits 0", async () => {
    const c = await login(true);
    const r = await call("POST", "/admin/drain");
    assert.equal(r.status, 202);
    assert.equal(r.json.draining, true);
    assert.equal(r.json.already, false);
    const d = await c.next("disconnect");
    assert.equal(d._et === "disconnect" && d.code, "SERVER_DRAINING");
    const ready = await fetch(`http://127.0.0.1:${server.ports.http}/readyz`).catch(
      () => undefined,
    );
    // 503 while it drains, or already gone: never ready again
    assert.notEqual(ready?.status, 200);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      server.exited,
      new Promise(
        (_, reject) => (timer = setTimeout(() => reject(new Error(server.output())), 20_000)),
      ),
    ]);
    clearTimeout(timer);
    assert.equal(code, 0);
    assert.match(server.output(), /"drained: the last session has gone"/);
  });
});
