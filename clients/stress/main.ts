#!/usr/bin/env node
/**
 * `npm run stress -- --scenario NAME [options]`: drives a chat server with one of the named loads
 * and reports throughput, latency, loss, errors and the server's CPU and memory. Exit codes: 0 when
 * the run completed (whatever it measured), 2 on a bad command line, 1 when the run itself failed
 * (server unreachable ...). See `--help`.
 */
import { parseStressArgs, STRESS_HELP } from "./stress-cli.js";
import { ProgressBar } from "./progress-bar.js";
import { runScenario } from "./run-scenario.js";
import { formatReport } from "./stress-report.js";

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseStressArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`stress: ${(err as Error).message}\n\n${STRESS_HELP}`);
    return 2;
  }
  if (parsed === "help") {
    process.stdout.write(STRESS_HELP);
    return 0;
  }
  const { options, json, progress } = parsed;
  const bar = (progress ?? process.stderr.isTTY) ? new ProgressBar(process.stderr) : undefined;
  try {
    const report = await runScenario(options, bar ? { onProgress: (p) => bar.update(p) } : {});
    bar?.clear();
    process.stdout.write(
      json ? JSON.stringify(report, null, 2) + "\n" : formatReport(report) + "\n",
    );
    return 0;
  } catch (err) {
    bar?.clear();
    process.stderr.write(`stress: ${(err as Error).message}\n`);
    return 1;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // Sockets of a failed run may still be closing; do not wait for them.
    setTimeout(() => process.exit(code), 100).unref();
  },
  (err: unknown) => {
    process.stderr.write(`stress: fatal: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
