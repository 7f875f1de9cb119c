import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { build } from "esbuild";

describe("client library browser bundle", () => {
  it("bundles for the browser without any Node built-in or the ws package", async () => {
    const result = await build({
      entryPoints: ["clients/lib/index.ts"],
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(inputs.includes("clients/lib/websocket-transport.ts"));
    assert.deepEqual(
      inputs.filter((i) => /tcp-transport|node-websocket|node_modules\/ws\//.test(i)),
      [],
    );
    const text = result.outputFiles[0]!.text;
    assert.doesNotMatch(text, /from\s+["']node:|require\(["']node:/);
  });
});
