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

  it("lists the new settings in --help", () => {
    for (const flag of ["--http-port", "--ws-heartbeat-ms", "--ws-deflate"]) {
      assert.match(helpText(), new RegExp(flag));
    }
  });
});
