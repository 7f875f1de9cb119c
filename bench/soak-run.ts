import {
  LatencyHistogram,
  LoadEngine,
  pairedRooms,
  QUIET_MS,
  sampleProcess,
  type TransportTarget,
} from "../clients/stress/index.js";
import { loadMark, othersPercent } from "./machine-load.js";
import { INTERRUPTED, round, type SoakInterval, type SoakRun } from "./soak-summary.js";

export interface SoakOptions {
  target: TransportTarget;
  users: number;
  /** members per room; the seed load pairs users (2) */
  roomSize: number;
  /** messages/s per user */
  rate: number;
  /** sending time, s */
  durationS: number;
  intervalS: number;
  /** the server's pid: RSS and CPU from /proc, and the run stops if it exits */
  serverPid?: number;
  /** the server's Prometheus endpoint, for its V8 heap (absent: no heap figures) */
  metricsUrl?: string;
  /** after sending, wait at most this long without progress for the last deliveries, ms */
  drainMs: number;
  /** connect, log in and join within this long, ms */
  setupTimeoutMs: number;
  /** aborting ends the run early (what was measured so far is returned) */
  signal?: AbortSignal;
}

export interface SoakHooks {
  /** the users are connected and joined; sending starts next */
  onStart?: (idle: { rssMiB?: number; heapUsedMiB?: number }) => void;
  onInterval?: (interval: SoakInterval) => void;
}

/** However the drain goes, it ends this long after sending stopped, ms. */
const DRAIN_CAP_MS = 60_000;
/** How often the wait between interval ends looks for an abort, a dead server or no users, ms. */
const CHECK_EVERY_MS = 250;

/**
 * Runs the seed shape (users in rooms of `roomSize`, each sending `rate` msg/s to its room) without
 * a break for `durationS`, and ends a measurement window every `intervalS`. Windows switch while
 * messages are in flight: those arriving in the next window are counted there as stale, with
 * their latency (Window.lateLatency), so each interval reports everything it received, and a
 * message counts as lost mid-run only once a whole interval has passed without it arriving.
 * After sending, the last deliveries are drained and the final loss is exact.
 */
export async function runSoak(o: SoakOptions, hooks: SoakHooks = {}): Promise<SoakRun> {
  const engine = new LoadEngine({
    target: o.target,
    extensions: false,
    connectConcurrency: 256,
    messageBytes: 0,
    tickMs: 1,
    setupTimeoutMs: o.setupTimeoutMs,
    ...(o.serverPid !== undefined && { serverPid: o.serverPid }),
  });
  engine.startSampling(1000);
  try {
    await engine.discoverRooms();
    const users = await engine.addUsers(pairedRooms(engine, o.users, o.roomSize));
    if (users.length < o.users) {
      throw new Error(
        `only ${users.length} of ${o.users} users connected and joined: ${JSON.stringify(Object.fromEntries(engine.errorsByKind))}`,
      );
    }
    await engine.quiesce(QUIET_MS, o.setupTimeoutMs);
    const heapTimeoutMs = Math.min(5000, (o.intervalS * 1000) / 2);
    const idleRss = engine.sampleServer()?.rssKiB;
    const idleHeap = await readHeapMiB(o.metricsUrl, heapTimeoutMs);
    const idle = {
      ...(idleRss !== undefined && { rssMiB: mib(idleRss) }),
      ...(idleHeap !== undefined && { heapUsedMiB: idleHeap }),
    };
    hooks.onStart?.(idle);

    engine.beginWindow();
    users.forEach((u, i) => engine.addSender(u, o.rate, i / users.length, [...u.rooms]));
    const started = performance.now();
    let mark = loadMark();
    const total = new LatencyHistogram();
    const intervals: SoakInterval[] = [];
    let sent = 0;
    let expected = 0;
    let delivered = 0;
    let stale = 0;
    let unexpected = 0;
    let stoppedEarly: string | undefined;
    for (let k = 1; ; k++) {
      const endS = Math.min(k * o.intervalS, o.durationS);
      stoppedEarly = await waitUntil(started + endS * 1000, engine, o);
      const last = stoppedEarly !== undefined || endS >= o.durationS;
      if (last) engine.pauseSending();
      const w = engine.window;
      const latency = new LatencyHistogram();
      latency.merge(w.latency);
      latency.merge(w.lateLatency);
      total.merge(latency);
      const lateHere = w.stale;
      const m = engine.endWindow();
      engine.beginWindow();
      const nextMark = loadMark();
      // the server is this process's child, not reaped yet: the machine's figure counts it
      const others = othersPercent(mark, nextMark) - (m.server?.cpuPct ?? 0);
      mark = nextMark;
      const heap = await readHeapMiB(o.metricsUrl, heapTimeoutMs);
      // Messages of the windows before this one have had a whole interval to arrive: those still
      // owed are counted lost (until they arrive: the figure can fall again).
      stale += lateHere;
      const lostSoFar = Math.max(0, expected - delivered - stale);
      sent += m.sent;
      expected += m.expected;
      delivered += m.delivered;
      unexpected += m.unexpected;
      const received = m.delivered + lateHere;
      const interval: SoakInterval = {
        elapsedS: round((performance.now() - started) / 1000, 2),
        durationS: m.durationS,
        ...(m.server && {
          rssMiB: mib(m.server.rssKiB),
          rssPeakMiB: mib(m.server.rssPeakKiB),
          serverCpuPct: m.server.cpuPct,
        }),
        ...(heap !== undefined && { heapUsedMiB: heap }),
        generatorCpuPct: m.client.cpuPct,
        othersCpuPct: round(Math.max(0, others), 1),
        sent: m.sent,
        received,
        deliveriesPerSec: round(received / m.durationS, 1),
        latencyMs: latency.summary(),
        lostSoFar,
        errors: m.errors,
        errorsSoFar: engine.totalErrors + unexpected,
      };
      intervals.push(interval);
      hooks.onInterval?.(interval);
      if (last) break;
    }
    const sendingS = intervals.reduce((t, i) => t + i.durationS, 0);

    if (stoppedEarly === INTERRUPTED) {
      // the server may be going down with us (one process group): its closes are not its errors
      engine.stopping = true;
    }
    await drain(engine, () => expected - delivered - stale - engine.window.stale, o.drainMs);
    stale += engine.window.stale;
    total.merge(engine.window.lateLatency);
    const tail = engine.endWindow();
    delivered += tail.delivered;
    unexpected += tail.unexpected;
    return {
      intervals,
      ...(idle.rssMiB !== undefined && { rssIdleMiB: idle.rssMiB }),
      ...(idle.heapUsedMiB !== undefined && { heapIdleMiB: idle.heapUsedMiB }),
      totals: {
        sent,
        expected,
        delivered: delivered + stale,
        lost: Math.max(0, expected - delivered - stale),
        errors: engine.totalErrors + unexpected,
        errorsByKind: {
          ...Object.fromEntries(engine.errorsByKind),
          ...(unexpected > 0 && { "unexpected delivery": unexpected }),
        },
      },
      latencyMs: total.summary(),
      sendingS: round(sendingS, 3),
      ...(stoppedEarly !== undefined && { stoppedEarly }),
    };
  } finally {
    await engine.close();
  }
}

/** Sleeps until `atMs` (performance.now()); returns why it stopped early, if it did. */
async function waitUntil(
  atMs: number,
  engine: LoadEngine,
  o: SoakOptions,
): Promise<string | undefined> {
  for (;;) {
    if (o.signal?.aborted) return INTERRUPTED;
    if (o.serverPid !== undefined && sampleProcess(o.serverPid) === undefined) {
      return `server process ${o.serverPid} exited`;
    }
    if (engine.readyUsers === 0) return "every connection was closed";
    const left = atMs - performance.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(CHECK_EVERY_MS, left));
  }
}

/** Waits until nothing is owed, or `quietMs` pass without a delivery (at most DRAIN_CAP_MS). */
async function drain(engine: LoadEngine, owed: () => number, quietMs: number): Promise<void> {
  const cap = performance.now() + DRAIN_CAP_MS;
  let last = owed();
  let quietSince = performance.now();
  while (last > 0 && performance.now() < cap) {
    await sleep(5);
    const now = owed();
    if (now !== last) {
      last = now;
      quietSince = performance.now();
    } else if (performance.now() - quietSince > quietMs || engine.readyUsers === 0) {
      return;
    }
  }
}

/**
 * `nodejs_heap_size_used_bytes` from a Prometheus text endpoint, MiB; undefined if unreadable or
 * not answered within `timeoutMs` (a saturated server answers late; the interval line waits).
 */
export async function readHeapMiB(
  url: string | undefined,
  timeoutMs: number,
): Promise<number | undefined> {
  if (url === undefined) return undefined;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    const m = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([\d.e+]+)$/m.exec(await res.text());
    return m ? round(Number(m[1]) / 1048576, 1) : undefined;
  } catch {
    return undefined;
  }
}

function mib(kib: number): number {
  return round(kib / 1024, 1);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
