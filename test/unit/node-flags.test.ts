import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { PARLEY_NODE_FLAGS } from "../../bench/server-process.js";

describe("the Node flags Parley runs with", () => {
  const flags = PARLEY_NODE_FLAGS.join(" ");

  it("are the same in npm start, the parley bin's shebang and the benchmarks", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { scripts: { start: string } };
    assert.equal(pkg.scripts.start, `node ${flags} dist/src/main.js`);
    const shebang = readFileSync("src/main.ts", "utf8").split("\n")[0];
    assert.equal(shebang, `#!/usr/bin/env -S node ${flags}`);
  });
});
