import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, WireClient, type TestServer } from "../helpers/harness.js";
import type { Event } from "../../src/protocol/index.js";

type Client = Awaited<ReturnType<typeof WireClient.login>>;

/** Sends set_name and returns the reply: user_renamed (to us) or error. */
async function setName(c: Client, n: string): Promise<Event> {
  c.send({ _ct: "set_name", n });
  return c.next(
    (e) =>
      (e._et === "user_renamed" && e.u === c.userId) || (e._et === "error" && e.cmd === "set_name"),
  );
}

function errorCode(e: Event): string | undefined {
  return e._et === "error" ? e.code : undefined;
}

describe("TCP: Unicode display names", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  it("lets José and 李 take their names, carried on user_renamed and room_members", async () => {
    const a = await WireClient.login(server.port);
    const welcome = await a.hello("José");
    assert.equal(welcome._et === "welcome" && welcome.n, "José");
    const b = await WireClient.login(server.port);
    await b.hello();
    await a.join("general");
    await b.join("general");

    assert.deepEqual(await setName(b, "李"), {
      _et: "user_renamed",
      u: b.userId,
      n: "李",
      o: b.userId,
    });
    const seen = await a.next("user_renamed");
    assert.deepEqual(seen, { _et: "user_renamed", u: b.userId, n: "李", o: b.userId });

    a.send({ _ct: "list_members", r: "general" });
    const members = await a.next("room_members");
    assert.equal(members._et, "room_members");
    if (members._et !== "room_members") return;
    const byId = new Map(members.ms.map((m) => [m.u, m.n]));
    assert.equal(byId.get(a.userId), "José");
    assert.equal(byId.get(b.userId), "李");

    // the decomposed spelling is the same name once normalised
    const c = await WireClient.login(server.port);
    c.send({ _ct: "hello", v: 1, n: "Jose\u0301" });
    const w = await c.next("welcome");
    assert.equal(w._et === "welcome" && w.n, c.userId);
    assert.equal(errorCode(await c.next("error")), "NAME_TAKEN");
    a.close();
    b.close();
    c.close();
  });

  it("stores and sends the NFKC form, and a rename to the same name in another form changes nothing", async () => {
    const d = await WireClient.login(server.port);
    await d.hello();
    assert.deepEqual(await setName(d, "Ｄｏｒａ"), {
      _et: "user_renamed",
      u: d.userId,
      n: "Dora",
      o: d.userId,
    });
    d.send({ _ct: "set_name", n: "Ｄｏｒａ" });
    d.send({ _ct: "ping", t: "after-rename" });
    const next = await d.next(
      (e) => e._et === "user_renamed" || e._et === "error" || e._et === "pong",
    );
    assert.equal(next._et, "pong");
    d.close();
  });

  it("refuses invisible and direction-changing characters with NAME_INVALID and keeps the connection", async () => {
    const e = await WireClient.login(server.port);
    await e.hello();
    const bidi = await setName(e, "evil\u202Eexe");
    assert.equal(errorCode(bidi), "NAME_INVALID");
    assert.match(
      bidi._et === "error" ? bidi.message : "",
      /invisible or direction-changing.*U\+202E/,
    );
    assert.equal(errorCode(await setName(e, "zero\u200Bwidth")), "NAME_INVALID");
    assert.equal(errorCode(await setName(e, " edgy")), "NAME_INVALID");
    const ok = await setName(e, "Zoë");
    assert.equal(ok._et === "user_renamed" && ok.n, "Zoë");
    e.close();
  });

  it("refuses another case or a lookalike of a connected user's name, and keeps serving", async () => {
    const f = await WireClient.login(server.port);
    await f.hello("alice");
    const p = await WireClient.login(server.port);
    await p.hello("pope");
    const g = await WireClient.login(server.port);
    await g.hello();

    assert.equal(errorCode(await setName(g, "ALICE")), "NAME_TAKEN");
    const mixed = await setName(g, "\u0430lice"); // Cyrillic а, Latin lice
    assert.equal(errorCode(mixed), "NAME_INVALID");
    assert.match(
      mixed._et === "error" ? mixed.message : "",
      /mixes scripts \(Cyrillic and Latin\)/,
    );
    assert.equal(errorCode(await setName(g, "\u0440\u043E\u0440\u0435")), "NAME_TAKEN"); // all Cyrillic роре
    assert.equal(errorCode(await setName(g, "ａｌｉｃｅ")), "NAME_TAKEN"); // fullwidth
    const dm = await setName(g, "Дмитрий");
    assert.equal(dm._et === "user_renamed" && dm.n, "Дмитрий");

    // still serving: a newcomer sees the Unicode names on messages
    await f.join("rust");
    await g.join("rust");
    const h = await WireClient.login(server.port);
    await h.hello("محمد");
    await h.join("rust");
    g.send({ _ct: "send_message", r: "rust", c: "привет" });
    const m = await h.next("user_message");
    assert.equal(m._et === "user_message" && m.n, "Дмитрий");
    for (const c of [f, p, g, h]) c.close();
  });
});
