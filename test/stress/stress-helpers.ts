import { spawn } from "node:child_process";
import assert from "node:assert/strict";
import { startApp, type App } from "../../src/app.js";
import { defaultConfig } from "../../src/config.js";
import { silentLogger, type Limits } from "../../src/core/index.js";
import { loadRooms } from "../../src/room-catalog.js";
import {
  BASE_DEFAULTS,
  scenarioDefaults,
  type ScenarioName,
  type StressOptions,
  type StressReport,
  type TransportTarget,
} from "../../clients/stress/index.js";

/** A real Parley in this process, line TCP on a free port, nothing else listening. */
export async function startParley(limits: Partial<Limits> = {}): Promise<App & { port: number }> {
  const config = defaultConfig();
  config.store = { kind: "memory" };
  config.host = "127.0.0.1";
  config.tcpPort = 0;
  config.lpPort = null;
  config.httpPort = null;
  Object.assign(config.limits, limits);
  const app = await startApp({ config, rooms: loadRooms(config.roomsPath), logger: silentLogger });
  return Object.assign(app, { port: app.ports.tcp! });
}

/** Stress options for a tiny run of `scenario` against `target`. */
export function tiny(
  scenario: ScenarioName,
  target: Partial<TransportTarget> & { port: number },
  overrides: Partial<StressOptions> = {},
): StressOptions {
  return {
    ...BASE_DEFAULTS,
    ...scenarioDefaults(scenario),
    scenario,
    target: { kind: "tcp", host: "127.0.0.1", path: "/ws", ...target },
    drainMs: 2000,
    setupTimeoutMs: 10_000,
    ...overrides,
  };
}

/** Nothing lost, nothing extra, every delivery timed, percentiles in order. */
export function assertLossless(report: StressReport): void {
  const m = report.result;
  assert.equal(m.lost, 0, "lost");
  assert.equal(m.unexpected, 0, "unexpected");
  assert.equal(m.delivered, m.expected, "delivered = expected");
  assert.equal(m.errors, 0, `errors: ${JSON.stringify(report.errors.byKind)}`);
  assertLatencyOrdered(report);
}

export function assertLatencyOrdered(report: StressReport): void {
  const l = report.result.latencyMs;
  assert.equal(l.count, report.result.delivered, "one latency per delivery");
  assert.ok(l.p50 >= 0, "p50 >= 0");
  assert.ok(l.p50 <= l.p95, `p50 ${l.p50} <= p95 ${l.p95}`);
  assert.ok(l.p95 <= l.p99, `p95 ${l.p95} <= p99 ${l.p99}`);
  assert.ok(l.p99 <= l.max, `p99 ${l.p99} <= max ${l.max}`);
}

/** What a script run by runScript printed, and how it ended. */
export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node --import tsx SCRIPT ARGS` (the stress tool, a benchmark) and collects its output. A
 * run still going after `timeoutMs` gets `killSignal` (SIGKILL by default; SIGINT lets a benchmark
 * stop what it started), so a test never waits on it for ever.
 */
export function runScript(
  script: string,
  args: readonly string[],
  options: { timeoutMs: number; killSignal?: NodeJS.Signals; env?: NodeJS.ProcessEnv },
): Promise<ScriptRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.env !== undefined && { env: options.env }),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill(options.killSignal ?? "SIGKILL"), options.timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
