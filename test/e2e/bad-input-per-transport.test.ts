import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { App } from "../../src/app.js";
import type { EventClient } from "./support/chat-clients.js";
import { LineClient, LpClient, WsClient } from "./support/chat-clients.js";
import { startTestApp } from "./support/test-app.js";

const MAX = 1024;
const ROOM = "rust";

/** 4-byte big-endian length header. */
function prefix(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, false);
  return b;
}

describe("bad input on each transport", { timeout: 20_000 }, () => {
  let app: App;
  /** a bystander in the room: must see nothing but the offender leave when it is closed */
  let observer: WsClient;
  let observerId: string;

  before(async () => {
    app = await startTestApp({ limits: { maxLineBytes: MAX } });
    observer = await WsClient.open(app.ports.http!);
    observerId = await observer.login("observer");
    await observer.join(ROOM);
  });
  after(async () => {
    observer.close();
    await app.stop();
  });

  let seq = 0;
  beforeEach(() => {
    seq++;
  });

  /** The observer still chats normally, and got no error of its own. */
  async function observerUnaffected(): Promise<void> {
    const text = `still fine ${seq}`;
    observer.send({ _ct: "send_message", r: ROOM, c: text });
    await observer.waitFor("user_message", (e) => e.c === text && e.u === observerId);
    assert.ok(!observer.saw((e) => e._et === "error" || e._et === "disconnect"));
  }

  async function offender(client: EventClient): Promise<string> {
    const id = await client.login();
    await client.join(ROOM);
    await observer.waitFor("room_participation", (e) => e.u === id && e.s === "joined");
    return id;
  }

  /** A bad line or frame that is recoverable: error event, connection and membership stay. */
  async function survivesBadJson(client: EventClient): Promise<void> {
    const id = await offender(client);
    client.send("{not json");
    const err = await client.waitFor("error");
    assert.equal(err.code, "BAD_JSON");
    client.send({ _ct: "send_message", r: ROOM, c: `after bad json ${seq}` });
    const seen = await observer.waitFor("user_message", (e) => e.c === `after bad json ${seq}`);
    assert.equal(seen.u, id);
    await observerUnaffected();
    client.close();
    await client.closed;
    await observer.waitFor("room_participation", (e) => e.u === id && e.s === "left");
  }

  it("answers bad JSON on a TCP line connection with BAD_JSON and keeps it open", async () => {
    await survivesBadJson(await LineClient.open(app.ports.tcp!));
  });

  it("answers bad JSON in a length-prefixed frame with BAD_JSON and keeps it open", async () => {
    await survivesBadJson(await LpClient.open(app.ports.lp!));
  });

  it("answers bad JSON in a WebSocket frame with BAD_JSON and keeps it open", async () => {
    await survivesBadJson(await WsClient.open(app.ports.http!));
  });

  it("closes a TCP line connection after an oversize line with FRAME_TOO_LARGE", async () => {
    const client = await LineClient.open(app.ports.tcp!);
    const id = await offender(client);
    client.send(JSON.stringify({ _ct: "send_message", r: ROOM, c: "x".repeat(MAX * 2) }));
    assert.equal((await client.waitFor("error")).code, "FRAME_TOO_LARGE");
    assert.equal((await client.waitFor("disconnect")).code, "FRAME_TOO_LARGE");
    await client.closed;
    await observer.waitFor("room_participation", (e) => e.u === id && e.s === "left");
    assert.ok(!observer.saw((e) => e._et === "user_message" && e.u === id));
    await observerUnaffected();
  });

  it("closes a length-prefixed connection whose prefix announces an oversize frame", async () => {
    const client = await LpClient.open(app.ports.lp!);
    const id = await offender(client);
    client.raw(prefix(MAX + 1)); // nothing follows: the header alone is refused
    assert.equal((await client.waitFor("error")).code, "FRAME_TOO_LARGE");
    const bye = await client.waitFor("disconnect");
    assert.equal(bye.code, "FRAME_TOO_LARGE");
    assert.equal(bye.reconnect, false);
    await client.closed;
    await observer.waitFor("room_participation", (e) => e.u === id && e.s === "left");
    await observerUnaffected();
  });

  it("closes a length-prefixed connection whose prefix is a bad length (0) with BAD_LENGTH", async () => {
    const client = await LpClient.open(app.ports.lp!);
    const id = await offender(client);
    client.raw(prefix(0));
    assert.equal((await client.waitFor("error")).code, "BAD_LENGTH");
    assert.equal((await client.waitFor("disconnect")).code, "PROTOCOL_ERROR");
    await client.closed;
    await observer.waitFor("room_participation", (e) => e.u === id && e.s === "left");
    await observerUnaffected();
  });

  it("answers a WebSocket message above the limit with FRAME_TOO_LARGE, then closes it", async () => {
    const client = await WsClient.open(app.ports.http!);
    const id = await offender(client);
    client.send(JSON.stringify({ _ct: "send_message", r: ROOM, c: "x".repeat(MAX * 2) }));
    assert.equal((await client.waitFor("error")).code, "FRAME_TOO_LARGE");
    assert.equal((await client.waitFor("disconnect")).code, "FRAME_TOO_LARGE");
    await client.closed;
    await observer.waitFor("room_participation", (e) => e.u === id && e.s === "left");
    assert.ok(!observer.saw((e) => e._et === "user_message" && e.u === id));
    await observerUnaffected();
  });

  it("closes a WebSocket whose message is far above the limit with 1009, unread", async () => {
    const client = await WsClient.open(app.ports.http!);
    const id = await offender(client);
    client.send(
      JSON.stringify({ _ct: "send_message", r: ROOM, c: "x".repeat(Math.max(MAX * 5, 1 << 21)) }),
    );
    await client.closed;
    assert.equal(client.closeCode, 1009); // "message too big", sent by ws before reading it
    await observer.waitFor("room_participation", (e) => e.u === id && e.s === "left");
    await observerUnaffected();
  });

  it("closes a WebSocket that sends a binary frame, with an error and status 4008", async () => {
    const client = await WsClient.open(app.ports.http!);
    const id = await offender(client);
    client.ws.send(Buffer.from(JSON.stringify({ _ct: "send_message", r: ROOM, c: "bin" })));
    assert.equal((await client.waitFor("error")).code, "BAD_ENCODING");
    assert.equal((await client.waitFor("disconnect")).code, "PROTOCOL_ERROR");
    await client.closed;
    assert.equal(client.closeCode, 4008);
    assert.equal(client.closeReason, "PROTOCOL_ERROR");
    await observer.waitFor("room_participation", (e) => e.u === id && e.s === "left");
    await observerUnaffected();
  });

  it("refuses a WebSocket upgrade on any path but /ws", async () => {
    await assert.rejects(WsClient.open(app.ports.http!, {}, "/chat"), /404/);
  });
});
