// Token authentication end to end: a real server on port 0, tokens signed here with jose, raw
// clients on every transport.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import type { App } from "../../src/app.js";
import type { Config } from "../../src/config.js";
import { type EventClient, LineClient, LpClient, WsClient } from "./support/chat-clients.js";
import { startTestApp, type TestConfig } from "./support/test-app.js";
import { es256Jwks, hsToken, metric, noneToken, SECRET } from "./support/tokens.js";

const nowS = (): number => Math.floor(Date.now() / 1000);

function auth(mode: "optional" | "required", extra: Partial<Config["auth"]> = {}): TestConfig {
  return { auth: { mode, secret: SECRET, clockToleranceMs: 30_000, ...extra } };
}

/** Sends hello with `tok` and returns the welcome. */
async function helloWith(c: EventClient, tok: string): Promise<{ n: string; u: string }> {
  await c.waitFor("login_successful");
  c.send({ _ct: "hello", v: 1, tok });
  return c.waitFor("welcome");
}

/** The refusal a Parley client gets for a bad or missing token: error, disconnect, close. */
async function assertRefused(c: EventClient, reason: string, cmd = "hello"): Promise<void> {
  const err = await c.waitFor("error");
  assert.equal(err.code, "UNAUTHORIZED");
  assert.equal(err.cmd, cmd);
  assert.ok(err.message.startsWith(reason), `"${err.message}" does not say ${reason}`);
  const bye = await c.waitFor("disconnect");
  assert.equal(bye.code, "UNAUTHORIZED");
  assert.equal(bye.reconnect, false);
  await c.closed;
}

describe("token authentication (JWT)", { timeout: 60_000 }, () => {
  describe("required mode", () => {
    let app: App;
    before(async () => {
      app = await startTestApp(auth("required"));
    });
    after(() => app.stop());

    it("accepts a valid token in hello on line TCP and length-prefixed, and names the session after it", async () => {
      const line = await LineClient.open(app.ports.tcp!);
      const welcome = await helloWith(
        line,
        await hsToken({ sub: "u-line", claims: { name: "LineUser" } }),
      );
      assert.equal(welcome.n, "LineUser");
      await line.join("rust");
      line.send({ _ct: "send_message", r: "rust", c: "over line" });
      const msg = await line.waitFor("user_message", (e) => e.c === "over line");
      assert.equal(msg.n, "LineUser");

      const lp = await LpClient.open(app.ports.lp!);
      // no name claim: the subject is the display name
      assert.equal((await helloWith(lp, await hsToken({ sub: "u-lp" }))).n, "u-lp");
      await lp.join("rust");
      lp.send({ _ct: "send_message", r: "rust", c: "over lp" });
      await line.waitFor("user_message", (e) => e.c === "over lp" && e.n === "u-lp");
      line.close();
      lp.close();
      assert.ok((await metric(app.ports.http!, 'parley_auth_successes_total{via="tcp"}')) >= 1);
      assert.ok((await metric(app.ports.http!, 'parley_auth_successes_total{via="tcp-lp"}')) >= 1);
    });

    it("accepts a valid token on the WebSocket upgrade, as a Bearer header or ?token=, with no hello", async () => {
      const header = await WsClient.open(app.ports.http!, {
        headers: {
          Authorization: `Bearer ${await hsToken({ sub: "u-ws1", claims: { name: "WsHeader" } })}`,
        },
      });
      const login = await header.waitFor("login_successful");
      assert.equal(login.n, "WsHeader");
      await header.join("general"); // no hello: the upgrade authenticated it

      const tok = await hsToken({ sub: "u-ws2", claims: { name: "WsQuery" } });
      const query = await WsClient.open(app.ports.http!, {}, `/ws?token=${tok}`);
      assert.equal((await query.waitFor("login_successful")).n, "WsQuery");
      await query.join("general");
      query.send({ _ct: "send_message", r: "general", c: "via query" });
      await header.waitFor("user_message", (e) => e.c === "via query" && e.n === "WsQuery");
      header.close();
      query.close();
      assert.ok((await metric(app.ports.http!, 'parley_auth_successes_total{via="ws"}')) >= 2);
    });

    it("refuses expired, malformed, wrongly signed, wrong-algorithm and sub-less tokens with UNAUTHORIZED and a close, counted by reason", async () => {
      const count = (reason: string): Promise<number> =>
        metric(app.ports.http!, `parley_auth_failures_total{reason="${reason}"}`);
      const before = {
        expired: await count("expired"),
        malformed: await count("malformed"),
        bad_signature: await count("bad_signature"),
        claims: await count("claims"),
      };
      const cases: Array<[string, string]> = [
        ["expired", await hsToken({ exp: nowS() - 120 })], // beyond the 30 s tolerance
        ["malformed", "not-a-jwt"],
        ["bad_signature", await hsToken({ key: new TextEncoder().encode("x".repeat(40)) })],
        ["bad_signature", await hsToken({ alg: "HS512" })],
        ["bad_signature", noneToken()],
        ["claims", await hsToken({ sub: null })],
        ["claims", await hsToken({ claims: { rooms: ["rust"] } })],
      ];
      for (const [reason, tok] of cases) {
        const c = await LpClient.open(app.ports.lp!);
        await c.waitFor("login_successful");
        c.send({ _ct: "hello", v: 1, tok });
        await assertRefused(c, reason);
        assert.ok(!c.saw((e) => e._et === "welcome"), `${reason}: welcomed`);
      }
      // a line client too (it sent hello: it reads extension events)
      const line = await LineClient.open(app.ports.tcp!);
      await line.waitFor("login_successful");
      line.send({ _ct: "hello", v: 1, tok: await hsToken({ exp: nowS() - 120 }) });
      await assertRefused(line, "expired");

      // on the WebSocket upgrade: refused before the session, status 1008
      const ws = await WsClient.open(app.ports.http!, {
        headers: { Authorization: `Bearer ${await hsToken({ alg: "HS512" })}` },
      });
      const bye = await ws.waitFor("disconnect");
      assert.equal(bye.code, "UNAUTHORIZED");
      await ws.closed;
      assert.equal(ws.closeCode, 1008);
      assert.match(ws.closeReason, /^UNAUTHORIZED: bad_signature/);
      assert.ok(!ws.saw((e) => e._et === "login_successful"));

      assert.equal(await count("expired"), before.expired + 2);
      assert.equal(await count("malformed"), before.malformed + 1);
      assert.equal(await count("bad_signature"), before.bad_signature + 4);
      assert.equal(await count("claims"), before.claims + 2);
      const refused = 'parley_connections_refused_total{code="UNAUTHORIZED",reason="auth"}';
      assert.ok((await metric(app.ports.http!, refused)) >= 1);
    });

    it("refuses any command before an accepted hello: error and disconnect for Parley clients, a close for an original one", async () => {
      const missing = await metric(app.ports.http!, 'parley_auth_failures_total{reason="missing"}');
      const lp = await LpClient.open(app.ports.lp!);
      await lp.waitFor("login_successful");
      lp.send({ _ct: "join_room", r: "rust" });
      await assertRefused(lp, "a token is required", "join_room");

      const ws = await WsClient.open(app.ports.http!);
      await ws.waitFor("login_successful");
      ws.send({ _ct: "list_rooms" });
      await assertRefused(ws, "a token is required", "list_rooms");
      assert.equal(ws.closeCode, 4007);

      // hello without a token is a command before the token too
      const noTok = await LpClient.open(app.ports.lp!);
      await noTok.waitFor("login_successful");
      noTok.send({ _ct: "hello", v: 1, n: "sneaky" });
      await assertRefused(noTok, "a token is required", "hello");

      const original = await LineClient.open(app.ports.tcp!);
      await original.waitFor("login_successful");
      original.send({ _ct: "join_room", r: "rust" });
      await original.closed;
      assert.deepEqual(
        original.events.map((e) => e._et),
        ["login_successful"],
        `an original client gets no extension event: ${JSON.stringify(original.events)}`,
      );
      assert.equal(
        await metric(app.ports.http!, 'parley_auth_failures_total{reason="missing"}'),
        missing + 4,
      );
    });

    it("lets a WebSocket that did not authenticate on the upgrade send its token in hello", async () => {
      const ws = await WsClient.open(app.ports.http!);
      const welcome = await helloWith(ws, await hsToken({ sub: "u-ws-hello" }));
      assert.equal(welcome.n, "u-ws-hello");
      await ws.join("rust");
      ws.close();
    });
  });

  describe("room and name limits", () => {
    let app: App;
    before(async () => {
      app = await startTestApp(auth("required"));
    });
    after(() => app.stop());

    it("answers FORBIDDEN outside the token's read and write rooms, keeps the connection, and lists only readable rooms", async () => {
      const tok = await hsToken({
        sub: "u-limited",
        claims: { name: "Limited", rooms: { read: ["general", "rust"], write: ["general"] } },
      });
      const c = await LpClient.open(app.ports.lp!);
      await helloWith(c, tok);
      await c.join("rust");
      await c.join("general");
      c.send({ _ct: "join_room", r: "ml" });
      const noJoin = await c.waitFor("error", (e) => e.cmd === "join_room");
      assert.equal(noJoin.code, "FORBIDDEN");
      assert.equal(noJoin.r, "ml");
      c.send({ _ct: "history", r: "ml" });
      assert.equal((await c.waitFor("error", (e) => e.cmd === "history")).code, "FORBIDDEN");
      c.send({ _ct: "list_members", r: "ml" });
      assert.equal((await c.waitFor("error", (e) => e.cmd === "list_members")).code, "FORBIDDEN");
      c.send({ _ct: "send_message", r: "rust", c: "read only here", cid: "1" });
      const noSend = await c.waitFor("error", (e) => e.cmd === "send_message");
      assert.equal(noSend.code, "FORBIDDEN");
      assert.equal(noSend.cid, "1");
      c.send({ _ct: "send_message", r: "general", c: "allowed", cid: "2" });
      await c.waitFor("user_message", (e) => e.c === "allowed");
      c.send({ _ct: "list_rooms" });
      const list = await c.waitFor("room_list");
      assert.deepEqual(
        list.rs.map((r) => r.n),
        ["general", "rust"],
      );
      // the token fixes the name
      c.send({ _ct: "set_name", n: "Other" });
      assert.equal((await c.waitFor("error", (e) => e.cmd === "set_name")).code, "FORBIDDEN");
      c.send({ _ct: "ping", t: "alive" });
      await c.waitFor("pong", (e) => e.t === "alive");
      assert.equal(c.isClosed, false);
      assert.ok(!c.saw((e) => e._et === "user_renamed" && e.n === "Other"));
      c.close();
    });

    it('allows every room with "*" and a chosen name when the token gives none', async () => {
      const tok = await hsToken({
        sub: "u-free",
        claims: { rooms: { read: ["*"], write: ["*"] } },
      });
      const c = await LineClient.open(app.ports.tcp!);
      await helloWith(c, tok);
      await c.join("ml");
      c.send({ _ct: "set_name", n: "Chosen" });
      await c.waitFor("user_renamed", (e) => e.n === "Chosen" && e.o === "u-free");
      c.send({ _ct: "list_rooms" });
      assert.ok((await c.waitFor("room_list")).rs.length > 2);
      c.close();
    });

    it("lists only readable rooms in login_successful when the WebSocket upgrade carried the token", async () => {
      const tok = await hsToken({ sub: "u-ws-rooms", claims: { rooms: { read: ["rust"] } } });
      const ws = await WsClient.open(app.ports.http!, {
        headers: { Authorization: `Bearer ${tok}` },
      });
      const login = await ws.waitFor("login_successful");
      assert.deepEqual(
        login.rs.map((r) => r.n),
        ["rust"],
      );
      ws.close();
    });

    it("renews a session's token with a hello of the same subject and refuses another subject", async () => {
      const c = await LpClient.open(app.ports.lp!);
      await helloWith(c, await hsToken({ sub: "u-renew" }));
      c.send({ _ct: "hello", v: 1, tok: await hsToken({ sub: "u-renew" }) });
      await c.waitFor("welcome");
      c.send({ _ct: "hello", v: 1, tok: await hsToken({ sub: "u-someone-else" }) });
      await assertRefused(c, "claims");
    });
  });

  it("ends a session when its token expires, telling it to reconnect", async () => {
    const app = await startTestApp(auth("required", { clockToleranceMs: 0 }));
    try {
      const watcher = await LpClient.open(app.ports.lp!);
      await helloWith(watcher, await hsToken({ sub: "u-watcher" }));
      await watcher.join("rust");
      const shortLived = await hsToken({ sub: "u-brief", exp: nowS() + 4 });
      const lp = await LpClient.open(app.ports.lp!);
      const brief = await helloWith(lp, shortLived);
      await lp.join("rust");
      const ws = await WsClient.open(app.ports.http!, {
        headers: {
          Authorization: `Bearer ${await hsToken({ sub: "u-brief-ws", exp: nowS() + 4 })}`,
        },
      });
      await ws.waitFor("login_successful");

      const bye = await lp.waitFor("disconnect", () => true, 10_000);
      assert.deepEqual(
        { code: bye.code, message: bye.message, reconnect: bye.reconnect },
        { code: "UNAUTHORIZED", message: "token expired", reconnect: true },
      );
      await lp.closed;
      const left = await watcher.waitFor("room_participation", (e) => e.s === "left", 5_000);
      assert.equal(left.u, brief.u);
      assert.equal((await ws.waitFor("disconnect", () => true, 10_000)).reconnect, true);
      await ws.closed;
      assert.equal(ws.closeCode, 4007);
      assert.equal(watcher.isClosed, false);
      watcher.close();
    } finally {
      await app.stop();
    }
  });

  it("verifies ES256 tokens against a JWKS file, refusing an unknown kid and an HS256 token", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-jwks-"));
    const keys = await es256Jwks(dir);
    const app = await startTestApp({
      auth: { mode: "required", jwksFile: keys.file, clockToleranceMs: 30_000 },
    });
    try {
      const ok = await WsClient.open(app.ports.http!, {
        headers: { Authorization: `Bearer ${await keys.sign({ sub: "u-es", name: "Ecdsa" })}` },
      });
      assert.equal((await ok.waitFor("login_successful")).n, "Ecdsa");
      ok.close();
      const lp = await LpClient.open(app.ports.lp!);
      assert.equal((await helloWith(lp, await keys.sign({ sub: "u-es-lp" }))).n, "u-es-lp");
      lp.close();

      const unknownKid = await LpClient.open(app.ports.lp!);
      await unknownKid.waitFor("login_successful");
      unknownKid.send({ _ct: "hello", v: 1, tok: await keys.sign({ sub: "u-x" }, "k2") });
      await assertRefused(unknownKid, "bad_signature");
      const hs = await LpClient.open(app.ports.lp!);
      await hs.waitFor("login_successful");
      hs.send({ _ct: "hello", v: 1, tok: await hsToken() });
      await assertRefused(hs, "bad_signature");
    } finally {
      await app.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("checks iss and aud when configured", async () => {
    const app = await startTestApp(
      auth("required", { issuer: "https://idp.test", audience: "parley" }),
    );
    try {
      const good = await LpClient.open(app.ports.lp!);
      const claims = { iss: "https://idp.test", aud: "parley" };
      await helloWith(good, await hsToken({ sub: "u-iss", claims }));
      good.close();
      const wrongAud = await LpClient.open(app.ports.lp!);
      await wrongAud.waitFor("login_successful");
      wrongAud.send({
        _ct: "hello",
        v: 1,
        tok: await hsToken({ claims: { ...claims, aud: "other" } }),
      });
      await assertRefused(wrongAud, "claims");
    } finally {
      await app.stop();
    }
  });

  it("in optional mode lets an original client in without a token, and still refuses a bad one", async () => {
    const app = await startTestApp(auth("optional"));
    try {
      const original = await LineClient.open(app.ports.tcp!);
      const login = await original.waitFor("login_successful");
      await original.join("rust");
      original.send({ _ct: "send_message", r: "rust", c: "no token needed" });
      const msg = await original.waitFor("user_message", (e) => e.c === "no token needed");
      assert.equal(msg.u, login.u);

      const anonymousWs = await WsClient.open(app.ports.http!);
      await anonymousWs.login("anon");
      const bad = await LpClient.open(app.ports.lp!);
      await bad.waitFor("login_successful");
      bad.send({ _ct: "hello", v: 1, tok: await hsToken({ exp: nowS() - 120 }) });
      await assertRefused(bad, "expired");
      const good = await LpClient.open(app.ports.lp!);
      assert.equal((await helloWith(good, await hsToken({ sub: "u-opt" }))).n, "u-opt");
      for (const c of [original, anonymousWs, good]) c.close();
    } finally {
      await app.stop();
    }
  });

  it("with auth off changes nothing for an original client and ignores a hello's tok", async () => {
    const app = await startTestApp();
    try {
      const a = await LineClient.open(app.ports.tcp!);
      const b = await LineClient.open(app.ports.tcp!);
      const la = await a.waitFor("login_successful");
      await b.waitFor("login_successful");
      await a.join("rust");
      await b.join("rust");
      a.send({ _ct: "send_message", r: "rust", c: "hello from the original protocol" });
      const got = await b.waitFor("user_message", (e) => e.r === "rust");
      assert.equal(got.u, la.u);
      const original = new Set([
        "login_successful",
        "user_joined_room",
        "room_participation",
        "user_message",
      ]);
      assert.ok(a.events.every((e) => original.has(e._et)));
      assert.ok(b.events.every((e) => original.has(e._et)));

      const lp = await LpClient.open(app.ports.lp!);
      await lp.waitFor("login_successful");
      lp.send({ _ct: "hello", v: 1, tok: "anything at all" });
      await lp.waitFor("welcome");
      lp.send({ _ct: "join_room", r: "rust" });
      await lp.waitFor("user_joined_room");
      for (const c of [a, b, lp]) c.close();
    } finally {
      await app.stop();
    }
  });

  it("refuses to start with --auth required and no key: exit 2 and the reason", async () => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith("PARLEY_")),
    );
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/main.ts",
        "--auth",
        "required",
        "--port",
        "0",
        "--lp-port",
        "off",
        "--http-port",
        "off",
        "--store",
        "memory",
      ],
      { stdio: ["ignore", "ignore", "pipe"], env },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    assert.equal(code, 2);
    assert.match(stderr, /--auth required: no key to check tokens with/);
  });
});
