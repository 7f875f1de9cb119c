/**
 * Run settings shared by the fuzz tests (test/fuzz/*.fuzz.test.ts).
 *
 * Every property has its own fixed seed, so `npm test` runs the same inputs every time and a
 * failure reproduces. Two environment variables widen a local run:
 *   FUZZ_SCALE=n   multiplies each property's run count (default 1; e.g. 50 for a long run)
 *   FUZZ_SEED=n    replaces every property's seed (`FUZZ_SEED=random` picks one, printed on failure)
 * A failure's message names the seed, the counterexample and the command that replays it.
 */
import fc from "fast-check";

function positiveNumber(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === "") return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
}

/** run-count multiplier from FUZZ_SCALE */
export const FUZZ_SCALE = positiveNumber("FUZZ_SCALE", process.env.FUZZ_SCALE, 1);

const seedOverride = ((): number | undefined => {
  const text = process.env.FUZZ_SEED;
  if (text === undefined || text === "") return undefined;
  if (text === "random") return (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  const n = Number(text);
  if (!Number.isInteger(n)) throw new Error("FUZZ_SEED must be an integer or 'random'");
  return n;
})();

/** Run count for a property whose default is `runs`. */
export function fuzzRuns(runs: number): number {
  return Math.max(1, Math.round(runs * FUZZ_SCALE));
}

/** A test timeout, in ms, grown with FUZZ_SCALE (the runner's own default is 120 s). */
export function fuzzTimeout(ms: number): number {
  return Math.round(ms * Math.max(1, FUZZ_SCALE));
}

/**
 * Runs a property with its fixed seed (or FUZZ_SEED) and `runs` × FUZZ_SCALE runs; on failure
 * the error names the seed and how to replay it.
 */
export async function checkProperty<Ts>(
  property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>,
  seed: number,
  runs: number,
  extra: Omit<fc.Parameters<Ts>, "seed" | "numRuns"> = {},
): Promise<void> {
  const used = seedOverride ?? seed;
  try {
    await fc.assert(property, { ...extra, seed: used, numRuns: fuzzRuns(runs) });
  } catch (err) {
    if (err instanceof Error) {
      err.message +=
        `\nfuzz seed ${used} (${fuzzRuns(runs)} runs); replay: ` +
        `FUZZ_SEED=${used} FUZZ_SCALE=${FUZZ_SCALE} node scripts/run-tests.mjs <this file>`;
    }
    throw err;
  }
}

/** Cuts `bytes` at the given positions (taken modulo its length + 1, sorted; repeats give empty chunks). */
export function cutAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const at = cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of at) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  out.push(bytes.subarray(from));
  return out;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Byte sequences that are not UTF-8: lone continuation, truncated, overlong, surrogate, > U+10FFFF, 0xFF. */
export const INVALID_UTF8: readonly Uint8Array[] = [
  Uint8Array.of(0x80),
  Uint8Array.of(0xc3),
  Uint8Array.of(0xe2, 0x82),
  Uint8Array.of(0xc0, 0xaf),
  Uint8Array.of(0xe0, 0x80, 0xaf),
  Uint8Array.of(0xed, 0xa0, 0x80),
  Uint8Array.of(0xf4, 0x90, 0x80, 0x80),
  Uint8Array.of(0xff),
  Uint8Array.of(0xfe, 0xff),
];

/** Byte strings for a stream: arbitrary bytes, valid UTF-8 text (any code point), and invalid UTF-8. */
export const bytePiece: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 12 }).map((s) => new TextEncoder().encode(s)),
  fc.constantFrom(...INVALID_UTF8),
);
