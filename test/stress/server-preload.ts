/**
 * Test-only preload for a server process run as
 * `node --expose-gc --import tsx --import ./test/stress/server-preload.ts src/main.ts ...`.
 * Never part of the product: Parley has no GC hook of its own.
 *
 * - On SIGWINCH (a signal a daemon never gets otherwise; SIGUSR2 drains Parley) it runs a full garbage collection, then writes `gc-done N` (N counts from 1) to
 *   stderr, so a test can read a settled heap from the server's own /metrics.
 * - It exits once the process that started it is gone (checked every second), so a test killed
 *   by the runner's timeout leaves no server behind.
 */
const collect = globalThis.gc;
if (collect === undefined) throw new Error("server-preload: start node with --expose-gc");
let done = 0;
process.on("SIGWINCH", () => {
  // Two passes: the first can leave objects whose finalizers or weak callbacks free more.
  collect();
  collect();
  process.stderr.write(`gc-done ${++done}\n`);
});

const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(1);
}, 1_000).unref();
