import type { TestRedis } from "../test/helpers/redis.js";

/** Counters a Redis server keeps, as `INFO stats cpu commandstats` reports them. */
export interface RedisCounters {
  /** calls per command, lower case (`spublish`, `publish`, ...) */
  calls: Record<string, number>;
  /** bytes read from and written to clients (total_net_input_bytes, total_net_output_bytes) */
  netInBytes: number;
  netOutBytes: number;
  /** CPU time of the server process, every thread (used_cpu_user + used_cpu_sys), ms */
  cpuMs: number;
  /** connections accepted (total_connections_received) */
  connections: number;
}

/** What a Redis server did between two readings, less what the benchmark did itself. */
export interface RedisDelta extends RedisCounters {
  /** every command but those the benchmark sent (INFO, and its probes) */
  totalCalls: number;
}

export function parseRedisInfo(text: string): RedisCounters {
  const calls: Record<string, number> = {};
  const fields = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const cmd = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (cmd) calls[cmd[1]!.toLowerCase()] = Number(cmd[2]);
    else if (line.includes(":") && !line.startsWith("#")) {
      const i = line.indexOf(":");
      fields.set(line.slice(0, i), line.slice(i + 1));
    }
  }
  const num = (name: string): number => {
    const v = Number(fields.get(name));
    if (!Number.isFinite(v)) throw new Error(`INFO has no ${name}`);
    return v;
  };
  return {
    calls,
    netInBytes: num("total_net_input_bytes"),
    netOutBytes: num("total_net_output_bytes"),
    cpuMs: (num("used_cpu_user") + num("used_cpu_sys")) * 1000,
    connections: num("total_connections_received"),
  };
}

/** A reading, with the count of what the probe had sent before it. */
export type Reading = RedisCounters & { own: Record<string, number> };

/** The probe's own connections (one per redis-cli run), kept with its commands. */
const CONNECTIONS = " connections";

/**
 * Reads a Redis server's counters through redis-cli, and counts the commands it sends itself so
 * that they can be left out: a reading's INFO shows up in the next reading's counts.
 */
export class RedisProbe {
  private readonly own: Record<string, number> = {};

  constructor(private readonly redis: TestRedis) {}

  async read(): Promise<Reading> {
    const own = { ...this.own };
    const text = await this.redis.cli("INFO", "stats", "cpu", "commandstats");
    this.count("info", 1);
    this.count(CONNECTIONS, 1);
    return { ...parseRedisInfo(text), own };
  }

  /**
   * Reads until no command but ours arrived for `quietMs` (at most `maxMs`): a node may still be
   * writing publishes queued while it was busy after its clients had everything (the other
   * member's copy came from the store).
   */
  async settled(quietMs = 300, maxMs = 10_000): Promise<Reading> {
    const until = performance.now() + maxMs;
    let last = await this.read();
    for (;;) {
      await new Promise((r) => setTimeout(r, quietMs));
      const next = await this.read();
      if (redisDelta(last, next).totalCalls === 0 || performance.now() > until) return next;
      last = next;
    }
  }

  /** The fields of each hash (HKEYS), in one script: one redis-cli run for all of them. */
  async hashFields(keys: readonly string[]): Promise<string[][]> {
    const script =
      "local r = {} for i, k in ipairs(KEYS) do r[i] = table.concat(redis.call('HKEYS', k), ' ') end return r";
    const text = await this.redis.cli("EVAL", script, String(keys.length), ...keys);
    this.count("eval", 1);
    this.count("hkeys", keys.length);
    this.count(CONNECTIONS, 1);
    const lines = text.split("\n").slice(0, keys.length);
    return keys.map((_, i) => (lines[i] ?? "").split(" ").filter((f) => f.length > 0));
  }

  private count(command: string, n: number): void {
    this.own[command] = (this.own[command] ?? 0) + n;
  }
}

export function redisDelta(a: Reading, b: Reading): RedisDelta {
  const calls: Record<string, number> = {};
  let totalCalls = 0;
  for (const name of new Set([...Object.keys(a.calls), ...Object.keys(b.calls)])) {
    const n =
      (b.calls[name] ?? 0) - (a.calls[name] ?? 0) - ((b.own[name] ?? 0) - (a.own[name] ?? 0));
    if (n === 0) continue;
    calls[name] = n;
    totalCalls += n;
  }
  return {
    calls,
    totalCalls,
    netInBytes: b.netInBytes - a.netInBytes,
    netOutBytes: b.netOutBytes - a.netOutBytes,
    cpuMs: b.cpuMs - a.cpuMs,
    connections:
      b.connections - a.connections - ((b.own[CONNECTIONS] ?? 0) - (a.own[CONNECTIONS] ?? 0)),
  };
}
