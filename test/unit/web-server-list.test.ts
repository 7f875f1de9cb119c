import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { serverUrls } from "../../clients/web/src/servers.js";

const page = new URL("http://b.example:8081/?x=1");

describe("the web client's servers", () => {
  it("is the page's own server at /ws when none is listed (wss on an https page)", () => {
    assert.deepEqual(serverUrls(undefined, page), ["ws://b.example:8081/ws"]);
    assert.deepEqual(serverUrls(" ", page), ["ws://b.example:8081/ws"]);
    assert.deepEqual(serverUrls("", new URL("https://b.example/")), ["wss://b.example/ws"]);
  });

  it("is the listed servers in their order, starting with the page's own when it is among them", () => {
    assert.deepEqual(serverUrls("ws://a.example:8081/ws, ws://c.example:8081/ws", page), [
      "ws://a.example:8081/ws",
      "ws://c.example:8081/ws",
    ]);
    assert.deepEqual(
      serverUrls("ws://a.example:8081/ws,ws://b.example:8081/ws,ws://c.example:8081/ws", page),
      ["ws://b.example:8081/ws", "ws://c.example:8081/ws", "ws://a.example:8081/ws"],
    );
  });

  it("keeps only WebSocket URLs (a browser cannot open TCP), and falls back to its own server on an unreadable list", () => {
    assert.deepEqual(serverUrls("a.example:8080,wss://c.example/ws", page), ["wss://c.example/ws"]);
    assert.deepEqual(serverUrls("ws://c.example:99999/ws", page), ["ws://b.example:8081/ws"]);
  });
});
