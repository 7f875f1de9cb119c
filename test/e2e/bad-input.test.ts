import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, WireClient, type TestServer } from "../helpers/harness.js";

/**
 * Every kind of bad input gets a clear error (for a client that opted in to extensions), never
 * closes the connection unless the stream is unusable, and never disturbs the other users.
 */
describe("bad input over TCP", () => {
  let server: TestServer;
  let bystander: WireClient;
  let partner: WireClient;
  before(async () => {
    server = await startServer({
      limits: { maxLineBytes: 1024, maxMessageChars: 100, maxRoomsPerSession: 3 },
    });
    bystander = await WireClient.login(server.port);
    partner = await WireClient.login(server.port);
    await bystander.join("general");
    await partner.join("general");
  });
  after(async () => {
    // the room kept working for everybody else throughout
    partner.send({ _ct: "send_message", r: "general", c: "still fine" });
    const m = await bystander.next((e) => e._et === "user_message" && e.c === "still fine");
    assert.equal(m._et, "user_message");
    bystander.close();
    partner.close();
    await server.stop();
  });

  async function errorFor(raw: string | Buffer): Promise<{ code: string; client: WireClient }> {
    const c = await WireClient.login(server.port);
    await c.hello();
    await c.join("general");
    c.sendRaw(raw);
    const e = await c.next("error");
    assert.equal(e._et, "error");
    // the connection is still usable afterwards
    c.send({ _ct: "send_message", r: "general", c: "after error" });
    await c.next((x) => x._et === "user_message" && x.c === "after error");
    return { code: e._et === "error" ? e.code : "", client: c };
  }

  const cases: Array<[string, string | Buffer, string]> = [
    ["malformed JSON", '{"_ct": "join_room", ', "BAD_JSON"],
    ["a JSON value that is not an object", "[1,2,3]", "BAD_COMMAND"],
    ["an object without _ct", '{"r":"general"}', "BAD_COMMAND"],
    ["an unknown command", '{"_ct":"launch_rockets"}', "UNKNOWN_COMMAND"],
    ["a field of the wrong type", '{"_ct":"join_room","r":42}', "BAD_COMMAND"],
    ["a missing field", '{"_ct":"send_message","r":"general"}', "BAD_COMMAND"],
    ["an unknown room", '{"_ct":"join_room","r":"atlantis"}', "ROOM_NOT_FOUND"],
    ["a double join", '{"_ct":"join_room","r":"general"}', "ALREADY_IN_ROOM"],
    [
      "a message to a room the user is not in",
      '{"_ct":"send_message","r":"ai","c":"x"}',
      "NOT_IN_ROOM",
    ],
    ["leaving a room the user is not in", '{"_ct":"leave_room","r":"ai"}', "NOT_IN_ROOM"],
    [
      "a message over the length limit",
      JSON.stringify({ _ct: "send_message", r: "general", c: "x".repeat(101) }),
      "MESSAGE_TOO_LONG",
    ],
    ["an empty message", '{"_ct":"send_message","r":"general","c":""}', "MESSAGE_EMPTY"],
    [
      "invalid UTF-8",
      Buffer.concat([
        Buffer.from('{"_ct":"send_message","r":"general","c":"'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}\n'),
      ]),
      "BAD_ENCODING",
    ],
  ];
  for (const [what, raw, code] of cases) {
    it(`answers ${what} with ${code} and keeps the connection`, async () => {
      const { code: got, client } = await errorFor(raw);
      assert.equal(got, code);
      client.close();
    });
  }

  it("refuses a join past the per-session room limit with TOO_MANY_ROOMS", async () => {
    const c = await WireClient.login(server.port);
    await c.hello();
    for (const r of ["ai", "ml", "rust"]) await c.join(r);
    c.send({ _ct: "join_room", r: "gaming" });
    const e = await c.next("error");
    assert.equal(e._et === "error" && e.code, "TOO_MANY_ROOMS");
    c.close();
  });

  it("reports the error with the command and room concerned", async () => {
    const c = await WireClient.login(server.port);
    await c.hello();
    c.send({ _ct: "join_room", r: "atlantis" });
    const e = await c.next("error");
    assert.deepEqual(
      { ...e, message: undefined },
      {
        _et: "error",
        code: "ROOM_NOT_FOUND",
        message: undefined,
        cmd: "join_room",
        r: "atlantis",
      },
    );
    c.close();
  });

  it("answers an oversized line with FRAME_TOO_LARGE, then closes that connection only", async () => {
    const c = await WireClient.login(server.port);
    await c.hello();
    c.sendRaw("x".repeat(5000));
    const err = await c.next("error");
    assert.equal(err._et === "error" && err.code, "FRAME_TOO_LARGE");
    const bye = await c.next("disconnect");
    assert.equal(bye._et === "disconnect" && bye.code, "FRAME_TOO_LARGE");
    await c.closed;
  });

  it("closes an original client that sends an oversized line, sending it nothing it cannot decode", async () => {
    const c = await WireClient.login(server.port);
    c.sendRaw("y".repeat(5000));
    await c.closed;
    assert.deepEqual(
      c.events.map((e) => e._et),
      ["login_successful"],
    );
  });

  it("survives a flood of garbage lines from one client while others chat", async () => {
    const c = await WireClient.login(server.port);
    await c.hello();
    c.sendRaw(Array.from({ length: 200 }, (_, i) => `garbage ${i}`).join("\n"));
    await c.collect("error", 200);
    partner.send({ _ct: "send_message", r: "general", c: "during garbage" });
    await bystander.next((e) => e._et === "user_message" && e.c === "during garbage");
    c.close();
  });
});
