import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, helpText, loadConfig, type Config } from "../../src/config.js";

function load(argv: string[], env: NodeJS.ProcessEnv = {}): Config {
  const c = loadConfig(argv, env);
  assert.notEqual(c, "help");
  return c as Config;
}

describe("config: HTTP and WebSocket settings", () => {
  it("defaults to HTTP on 8081, a 30 s heartbeat and no permessage-deflate", () => {
    const c = load([]);
    assert.equal(c.httpPort, 8081);
    assert.equal(c.wsHeartbeatMs, 30_000);
    assert.equal(c.wsDeflate, false);
  });

  it("reads --http-port (off disables), --ws-heartbeat-ms and the --ws-deflate switch", () => {
    const c = load(["--http-port", "off", "--ws-heartbeat-ms", "0", "--ws-deflate"]);
    assert.equal(c.httpPort, null);
    assert.equal(c.wsHeartbeatMs, 0);
    assert.equal(c.wsDeflate, true);
  });

  it("reads the environment, flags winning over it", () => {
    const env = { PARLEY_HTTP_PORT: "9000", PARLEY_WS_DEFLATE: "true" };
    assert.equal(load([], env).httpPort, 9000);
    assert.equal(load([], env).wsDeflate, true);
    assert.equal(load(["--http-port", "9001"], env).httpPort, 9001);
    assert.throws(() => load([], { PARLEY_WS_DEFLATE: "maybe" }), ConfigError);
  });

  it("reads --web-servers (or PARLEY_WEB_SERVERS) as ws:// and wss:// URLs, none by default", () => {
    assert.deepEqual(load([]).webServers, []);
    assert.deepEqual(
      load(["--web-servers", " ws://127.0.0.1:8081/ws, WSS://Node-B.example/chat/ws "]).webServers,
      ["ws://127.0.0.1:8081/ws", "wss://node-b.example/chat/ws"],
    );
    assert.deepEqual(load([], { PARLEY_WEB_SERVERS: "ws://[::1]:9081/ws" }).webServers, [
      "ws://[::1]:9081/ws",
    ]);
    assert.deepEqual(load(["--web-servers", "none"]).webServers, []);
  });

  it("refuses a --web-servers entry that is not a plain ws:// or wss:// URL", () => {
    for (const bad of [
      "127.0.0.1:8081",
      "http://a.example/ws",
      "ws://a.example/ws,/ws",
      "ws://user:pw@a.example/ws",
      "ws://a.example/ws?x=1",
      "ws://a;b.example/ws",
      "ws://a b.example/ws",
    ]) {
      assert.throws(
        () => load(["--web-servers", bad]),
        (err: unknown) => err instanceof ConfigError && /--web-servers/.test(err.message),
        bad,
      );
    }
  });

  it("lists the new settings in --help", () => {
    for (const flag of ["--http-port", "--ws-heartbeat-ms", "--ws-deflate", "--web-servers"]) {
      assert.match(helpText(), new RegExp(flag));
    }
  });
});
