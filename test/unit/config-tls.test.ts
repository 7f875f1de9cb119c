import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, helpText, loadConfig, type Config } from "../../src/config.js";

const load = (argv: string[], env: NodeJS.ProcessEnv = {}): Config => {
  const c = loadConfig(argv, env);
  assert.notEqual(c, "help");
  return c as Config;
};

describe("TLS settings", () => {
  it("are off by default, with a 10 s handshake deadline", () => {
    const c = load([]);
    assert.equal(c.tls, null);
    assert.equal(c.tlsHandshakeTimeoutMs, 10_000);
  });

  it("take the certificate and key from flags or from PARLEY_TLS_CERT and PARLEY_TLS_KEY", () => {
    assert.deepEqual(load(["--tls-cert", "a.crt", "--tls-key", "a.key"]).tls, {
      certPath: "a.crt",
      keyPath: "a.key",
    });
    assert.deepEqual(load([], { PARLEY_TLS_CERT: "b.crt", PARLEY_TLS_KEY: "b.key" }).tls, {
      certPath: "b.crt",
      keyPath: "b.key",
    });
    assert.deepEqual(load(["--tls-key", "c.key"], { PARLEY_TLS_CERT: "b.crt" }).tls, {
      certPath: "b.crt",
      keyPath: "c.key",
    });
    assert.equal(
      load([], { PARLEY_TLS_HANDSHAKE_TIMEOUT_MS: "2500" }).tlsHandshakeTimeoutMs,
      2_500,
    );
  });

  it("refuse a certificate without a key, a key without a certificate, and a 0 ms deadline", () => {
    for (const [argv, env] of [
      [["--tls-cert", "a.crt"], {}],
      [[], { PARLEY_TLS_KEY: "a.key" }],
      [["--tls-cert", "a.crt", "--tls-key", "a.key", "--tls-handshake-timeout-ms", "0"], {}],
    ] as const) {
      assert.throws(() => loadConfig([...argv], env), ConfigError);
    }
  });

  it("are listed in --help", () => {
    for (const flag of ["--tls-cert", "--tls-key", "--tls-handshake-timeout-ms"]) {
      assert.match(helpText(), new RegExp(`${flag}\\s`));
    }
  });
});
