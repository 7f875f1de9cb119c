/**
 * Test-only preload for a server process run as
 * `node --expose-gc --import tsx --import ./test/stress/gc-on-sigusr2.ts src/main.ts ...`:
 * on SIGUSR2 it runs a full garbage collection and then writes `gc-done N` (N counts from 1) to
 * stderr, so a test can read a settled heap from the server's own /metrics. Never part of the
 * product: Parley has no GC hook of its own.
 */
const collect = globalThis.gc;
if (collect === undefined) throw new Error("gc-on-sigusr2: start node with --expose-gc");
let done = 0;
process.on("SIGUSR2", () => {
  // Two passes: the first can leave objects whose finalizers or weak callbacks free more.
  collect();
  collect();
  process.stderr.write(`gc-done ${++done}\n`);
});
