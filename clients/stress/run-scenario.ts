import { SignJWT } from "jose";
import type { RoomRef } from "./links/index.js";
import { describe, LoadEngine, sleep, type User } from "./load-engine.js";
import type { Measurement } from "./measurement.js";
import type { StressOptions } from "./stress-options.js";
import type { CeilingStep, StressReport } from "./stress-report.js";

/** Silence on every connection that marks the end of the set-up traffic, ms. */
export const QUIET_MS = 300;

/** What a progress display needs, reported a few times a second. */
export interface ProgressInfo {
  phase: string;
  /** 0..1 of the whole run when known */
  fraction: number | undefined;
  readyUsers: number;
  sent: number;
  delivered: number;
  expected: number;
  p99Ms: number;
}

export interface RunHooks {
  onProgress?: (p: ProgressInfo) => void;
  /** how often onProgress is called, ms */
  progressEveryMs?: number;
}

/** Runs one scenario against a server and returns its report. Connections are closed at the end. */
export async function runScenario(o: StressOptions, hooks: RunHooks = {}): Promise<StressReport> {
  const engine = new LoadEngine({
    target: o.target,
    extensions: o.extensions,
    connectConcurrency: o.connectConcurrency,
    messageBytes: o.messageBytes,
    tickMs: o.tickMs,
    setupTimeoutMs: o.setupTimeoutMs,
    ...(o.serverPid !== undefined && { serverPid: o.serverPid }),
    ...(o.otherServerPids !== undefined && { otherServerPids: o.otherServerPids }),
    ...(o.jwtSecret !== undefined && { token: userTokens(o.jwtSecret) }),
  });
  const state: { phase: string; fraction: number | undefined } = {
    phase: "connecting",
    fraction: undefined,
  };
  const progressTimer = hooks.onProgress
    ? setInterval(() => {
        const w = engine.window;
        hooks.onProgress!({
          phase: state.phase,
          fraction: state.fraction,
          readyUsers: engine.readyUsers,
          sent: w.sent,
          delivered: w.delivered,
          expected: w.expected,
          p99Ms: w.latency.count ? w.latency.quantile(0.99) / 1000 : 0,
        });
      }, hooks.progressEveryMs ?? 250)
    : undefined;
  engine.startSampling(250);
  try {
    const rooms = (await engine.discoverRooms()).length;
    if (rooms === 0 && o.scenario !== "idle") {
      throw new Error("the server listed no rooms in login_successful");
    }
    const partial = await SCENARIO_RUNNERS[o.scenario](engine, o, state);
    const closedEarly = engine.users.filter((u) => u.ready && u.closed).length;
    const byKind = Object.fromEntries(engine.errorsByKind);
    return {
      scenario: o.scenario,
      transport: o.target.kind,
      target: describe(o.target),
      originalOnly: !o.extensions,
      params: paramsOf(o),
      connections: {
        ready: engine.users.filter((u) => u.ready).length,
        failed: engine.connectFailures,
        closedEarly,
      },
      errors: { total: engine.totalErrors, byKind },
      generatorMaxTickLagMs: Math.round(engine.maxTickLagMs * 10) / 10,
      ...partial,
    };
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    await engine.close();
  }
}

type Partial_ = Pick<StressReport, "result" | "idle" | "ceiling" | "ramp">;
type Runner = (
  engine: LoadEngine,
  o: StressOptions,
  state: { phase: string; fraction: number | undefined },
) => Promise<Partial_>;

const SCENARIO_RUNNERS: Record<StressOptions["scenario"], Runner> = {
  seed: runSeed,
  ramp: runRamp,
  fanout: runFanout,
  idle: runIdle,
  ceiling: runCeiling,
};

function paramsOf(o: StressOptions): Record<string, number | string> {
  switch (o.scenario) {
    case "seed":
      return { users: o.users, roomSize: o.roomSize, rate: o.rate, durationS: o.durationS };
    case "ramp":
      return {
        stages: o.stages.map((s) => `${s.users}:${s.seconds}`).join(","),
        stepsPerStage: o.stepsPerStage,
        roomsPerUser: o.roomsPerUser,
        rate: o.rate,
        holdS: o.durationS,
      };
    case "fanout":
      return { users: o.users, rate: o.rate, senders: o.senders, durationS: o.durationS };
    case "idle":
      return { users: o.users, settleMs: o.settleMs };
    case "ceiling":
      return {
        users: o.users,
        roomSize: o.roomSize,
        startRate: o.startRate,
        stepFactor: o.stepFactor,
        stepS: o.stepS,
        maxP99Ms: o.maxP99Ms,
      };
  }
}

/** Users in consecutive groups of `roomSize`, one room per group (the seed's shape). */
export function pairedRooms(engine: LoadEngine, users: number, roomSize: number): RoomRef[][] {
  const needed = Math.ceil(users / roomSize);
  if (needed > engine.rooms.length) {
    throw new Error(
      `${users} users at ${roomSize} per room need ${needed} rooms; the server has ${engine.rooms.length}`,
    );
  }
  return Array.from({ length: users }, (_, i) => [engine.rooms[Math.floor(i / roomSize)]!]);
}

/** Sleeps `seconds`, updating the progress fraction from `from` to `to`. */
async function timed(
  seconds: number,
  state: { fraction: number | undefined },
  from: number,
  to: number,
): Promise<void> {
  const start = performance.now();
  const end = start + seconds * 1000;
  for (;;) {
    const now = performance.now();
    state.fraction = from + ((to - from) * (now - start)) / Math.max(1, end - start);
    if (now >= end) return;
    await sleep(Math.min(100, end - now));
  }
}

async function sendFor(
  engine: LoadEngine,
  o: StressOptions,
  state: { phase: string; fraction: number | undefined },
  senders: Array<{ user: User; rate: number; phase: number }>,
): Promise<Measurement> {
  state.phase = "waiting for the server to go quiet";
  await engine.quiesce(QUIET_MS, o.setupTimeoutMs);
  engine.beginWindow();
  state.phase = "sending";
  for (const s of senders) engine.addSender(s.user, s.rate, s.phase, [...s.user.rooms]);
  await timed(o.durationS, state, 0, 1);
  engine.pauseSending();
  state.phase = "draining";
  await engine.drain(o.drainMs);
  return engine.endWindow();
}

async function runSeed(
  engine: LoadEngine,
  o: StressOptions,
  state: { phase: string; fraction: number | undefined },
): Promise<Partial_> {
  const users = await engine.addUsers(pairedRooms(engine, o.users, o.roomSize));
  const result = await sendFor(
    engine,
    o,
    state,
    users.map((user, i) => ({ user, rate: o.rate, phase: i / users.length })),
  );
  return { result };
}

async function runFanout(
  engine: LoadEngine,
  o: StressOptions,
  state: { phase: string; fraction: number | undefined },
): Promise<Partial_> {
  const room = engine.rooms[0]!;
  const users = await engine.addUsers(Array.from({ length: o.users }, () => [room]));
  const senders = users.slice(0, Math.max(1, Math.min(o.senders, users.length)));
  const result = await sendFor(
    engine,
    o,
    state,
    senders.map((user, i) => ({ user, rate: o.rate / senders.length, phase: i / senders.length })),
  );
  return { result };
}

async function runIdle(
  engine: LoadEngine,
  o: StressOptions,
  state: { phase: string; fraction: number | undefined },
): Promise<Partial_> {
  // Let the server settle after the room-discovery connection closed.
  await sleep(Math.min(1000, o.settleMs));
  engine.beginWindow();
  const before = engine.sampleServer();
  state.phase = "connecting";
  let done = 0;
  const users = await Promise.all(
    Array.from({ length: o.users }, () =>
      engine.addUser([]).then((u) => {
        state.fraction = (++done / o.users) * 0.8;
        return u;
      }),
    ),
  );
  const ready = users.filter((u) => u !== undefined).length;
  state.phase = "settling";
  await timed(o.settleMs / 1000, state, 0.8, 1);
  engine.pauseSending();
  const result = engine.endWindow();
  const after = engine.sampleServer();
  return {
    result,
    ...(before &&
      after && {
        idle: {
          connections: ready,
          rssBeforeKiB: before.rssKiB,
          rssAfterKiB: after.rssKiB,
          rssPerConnectionKiB:
            ready === 0 ? 0 : Math.round(((after.rssKiB - before.rssKiB) / ready) * 100) / 100,
        },
      }),
  };
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The original stress test: users arrive in equal steps per stage, each joins `roomsPerUser`
 * rooms taken round-robin from the server's list (continuing where the previous user stopped),
 * and sends to them in turn every 1/rate s after a random first delay, while others keep arriving.
 */
async function runRamp(
  engine: LoadEngine,
  o: StressOptions,
  state: { phase: string; fraction: number | undefined },
): Promise<Partial_> {
  const rnd = random(o.randomSeed);
  const roomCount = engine.rooms.length;
  const perUser = Math.min(o.roomsPerUser, roomCount);
  let nextRoom = 0;
  let current = 0;
  const pending: Array<Promise<unknown>> = [];
  const totalS = o.stages.reduce((t, s) => t + s.seconds, 0) + o.durationS;
  const started = performance.now();
  const fraction = (): number => (performance.now() - started) / 1000 / Math.max(0.001, totalS);
  engine.beginWindow();
  state.phase = "ramping";
  let stageStart = performance.now();
  for (const stage of o.stages) {
    const steps = Math.max(1, o.stepsPerStage);
    const diff = Math.max(0, stage.users - current);
    for (let step = 0; step < steps; step++) {
      // spread the remainder: after step k, round(diff * (k+1) / steps) users of this stage exist
      const target =
        current + Math.round((diff * (step + 1)) / steps) - Math.round((diff * step) / steps);
      for (; current < target; current++) {
        const rooms: RoomRef[] = [];
        for (let j = 0; j < perUser; j++) {
          rooms.push(engine.rooms[nextRoom]!);
          nextRoom = (nextRoom + 1) % roomCount;
        }
        pending.push(
          engine.addUser(rooms).then((u) => {
            if (u) engine.addSender(u, o.rate, rnd(), rooms);
          }),
        );
      }
      state.fraction = fraction();
      const wakeAt = stageStart + ((step + 1) * stage.seconds * 1000) / steps;
      await sleep(Math.max(0, wakeAt - performance.now()));
    }
    stageStart = performance.now();
  }
  state.phase = "connecting the last users";
  await Promise.all(pending);
  state.phase = "holding";
  await timed(o.durationS, state, fraction(), 1);
  engine.pauseSending();
  state.phase = "draining";
  await engine.drain(o.drainMs);
  return { result: engine.endWindow(), ramp: { peakUsers: engine.readyUsers } };
}

/**
 * Raises the rate step by step until a step loses messages, sees errors, has p99 above
 * maxP99Ms, or the generator itself saturates; reports the last good step. Every step drains
 * before the next, so each is measured on its own.
 */
async function runCeiling(
  engine: LoadEngine,
  o: StressOptions,
  state: { phase: string; fraction: number | undefined },
): Promise<Partial_> {
  const users = await engine.addUsers(pairedRooms(engine, o.users, o.roomSize));
  state.phase = "waiting for the server to go quiet";
  await engine.quiesce(QUIET_MS, o.setupTimeoutMs);
  const steps: CeilingStep[] = [];
  let lastGood: CeilingStep | undefined;
  let stopReason = `reached --max-steps ${o.maxSteps}`;
  let rate = o.startRate;
  let step = 0;
  let retried = false;
  while (step < o.maxSteps) {
    state.phase = `step ${step + 1}: ${Math.round(rate)} msg/s/user${retried ? " (again)" : ""}`;
    engine.beginWindow();
    if (step === 0 && !retried) {
      users.forEach((u, i) => engine.addSender(u, rate, i / users.length, [...u.rooms]));
    } else {
      engine.setRate(rate);
    }
    await timed(o.stepS, state, step / o.maxSteps, (step + 1) / o.maxSteps);
    engine.pauseSending();
    await engine.drain(o.drainMs);
    const m = engine.endWindow();
    const problems: string[] = [];
    if (m.lost > 0) problems.push(`lost ${m.lost}`);
    if (m.errors > 0) problems.push(`${m.errors} errors`);
    if (m.latencyMs.p99 > o.maxP99Ms) problems.push(`p99 ${m.latencyMs.p99} ms > ${o.maxP99Ms} ms`);
    if (m.client.cpuPct >= 95) problems.push(`generator saturated (${m.client.cpuPct}% CPU)`);
    steps.push({ ratePerUser: Math.round(rate * 10) / 10, measurement: m, problems });
    const alive = users.some((u) => !u.closed);
    if (problems.length > 0) {
      // One bad step may be a passing disturbance (a GC pause, another process): a rate fails
      // only when two steps in a row at it fail. Nothing is retried once connections were lost.
      if (!retried && m.errors === 0 && alive && o.stepRetries > 0) {
        retried = true;
        continue;
      }
      stopReason = problems.join("; ");
      break;
    }
    lastGood = steps[steps.length - 1];
    if (!alive) break;
    retried = false;
    step++;
    rate *= o.stepFactor;
  }
  return {
    result: (lastGood ?? steps[0]!).measurement,
    ceiling: {
      steps,
      ...(lastGood && {
        lastGood: {
          ratePerUser: lastGood.ratePerUser,
          deliveriesPerSec: lastGood.measurement.deliveriesPerSec,
          sentPerSec: lastGood.measurement.sentPerSec,
          p99Ms: lastGood.measurement.latencyMs.p99,
        },
      }),
      stopReason,
    },
  };
}

/** Signs user i a token for a server with --auth (subject `stress-i`, valid 12 hours). */
function userTokens(secret: string): (index: number) => Promise<string> {
  const key = new TextEncoder().encode(secret);
  return (index) =>
    new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(`stress-${index}`)
      .setIssuedAt()
      .setExpirationTime("12h")
      .sign(key);
}
