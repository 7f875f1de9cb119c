#!/usr/bin/env node
// Runs every test/**/*.test.ts and *.test.tsx (or the files/folders given) with node's built-in test runner via tsx.
// Node 20's --test does not expand globs, hence this walker.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path).sort()) collect(join(path, entry), out);
  } else if (path.endsWith(".test.ts") || path.endsWith(".test.tsx")) {
    out.push(path);
  }
  return out;
}

const roots = process.argv.slice(2);
const files = (roots.length ? roots : ["test"]).flatMap((r) => collect(r, []));
if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=spec", "--test-timeout=120000", ...files],
  // Benchmarks run by the tests are smoke runs: Parley from source, no build (see bench/server-process.ts).
  { stdio: "inherit", env: { ...process.env, PARLEY_BENCH_ENTRY: "source" } },
);
process.exit(result.status ?? 1);
