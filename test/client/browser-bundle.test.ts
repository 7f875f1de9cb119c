import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";

const NODE_ONLY = /tcp-transport|node-websocket|clients\/lib\/node\.ts|node_modules\/ws\//;

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
      inputs.filter((i) => NODE_ONLY.test(i)),
      [],
    );
    const text = result.outputFiles[0]!.text;
    assert.doesNotMatch(text, /from\s+["']node:|require\(["']node:/);
  });
});

describe("web client bundle (scripts/build-web.mjs)", () => {
  it("is built on the client library, without any Node built-in or the ws package", async () => {
    const out = await mkdtemp(join(tmpdir(), "parley-web-bundle-"));
    try {
      execFileSync(process.execPath, ["scripts/build-web.mjs", out], { stdio: "pipe" });
      // The linked source map names every file that went into the bundle.
      const map = JSON.parse(await readFile(join(out, "app.js.map"), "utf8")) as {
        sources: string[];
      };
      const sources = map.sources.map((s) => s.replace(/\\/g, "/"));
      for (const f of ["clients/lib/parley-client.ts", "clients/lib/websocket-transport.ts"]) {
        assert.ok(
          sources.some((s) => s.endsWith(f)),
          `${f} in ${sources.join(", ")}`,
        );
      }
      assert.deepEqual(
        sources.filter((s) => NODE_ONLY.test(s)),
        [],
      );
      const app = await readFile(join(out, "app.js"), "utf8");
      assert.doesNotMatch(app, /from\s*["']node:|require\(["']node:|from\s*["']ws["']/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
