import type { TransportTarget } from "./links/index.js";

export const SCENARIOS = ["seed", "ramp", "fanout", "idle", "ceiling"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** One stage of the ramp: reach `users` (in total) over `seconds`. */
export interface RampStage {
  users: number;
  seconds: number;
}

/**
 * Everything a stress run can be told. Each scenario reads the fields it needs; the defaults
 * (scenarioDefaults) reproduce the loads named in the issue, and every size, duration and rate can
 * be overridden so that tests run tiny versions of the same code.
 */
export interface StressOptions {
  scenario: ScenarioName;
  target: TransportTarget;
  /** false: original protocol only (join_room, send_message); true: also send `hello` */
  extensions: boolean;
  serverPid?: number;
  /** the server's other processes (cluster nodes, workers): CPU and RSS added to serverPid's */
  otherServerPids?: number[];
  /** simulated users (seed, fanout, idle, ceiling) */
  users: number;
  /** members per room (seed, ceiling) */
  roomSize: number;
  /** messages per second per sending user (seed, ramp; fanout: into the room, in total) */
  rate: number;
  /** sending time, s (seed, fanout); time held at full size after the ramp (ramp) */
  durationS: number;
  /** ramp: stages, each reaching a total number of users over some seconds */
  stages: RampStage[];
  /** ramp: users are added in this many equal steps per stage */
  stepsPerStage: number;
  /** ramp: rooms each user joins, round-robin over the server's rooms */
  roomsPerUser: number;
  /** fanout: how many members send (sharing `rate`) */
  senders: number;
  /** idle: wait this long after the last connection before reading RSS, ms */
  settleMs: number;
  /** ceiling: first rate per user, msg/s */
  startRate: number;
  /** ceiling: each step multiplies the rate by this */
  stepFactor: number;
  /** ceiling: length of one step, s */
  stepS: number;
  /** ceiling: a step with p99 above this (ms) ends the search */
  maxP99Ms: number;
  /** ceiling: at most this many steps */
  maxSteps: number;
  /** ceiling: a failing step (without errors) is run again this many times (0 or 1) */
  stepRetries: number;
  /** wait at most this long without progress for late deliveries after sending stops, ms */
  drainMs: number;
  connectConcurrency: number;
  messageBytes: number;
  /**
   * Sending schedule granularity, ms (default 1): a sender writes what is due once per tick. Short
   * ticks keep users unsynchronised (as real ones are); at high rates several messages share a
   * write, as a real client's would.
   */
  tickMs: number;
  setupTimeoutMs: number;
  /** seed for the pseudo-random parts (ramp's initial send delays) */
  randomSeed: number;
  /**
   * HS256 secret of a server with --auth: each user signs itself a token (subject `stress-N`,
   * valid 12 h) and sends it in a hello before joining
   */
  jwtSecret?: string;
}

export function defaultPort(kind: TransportTarget["kind"]): number {
  return kind === "tcp" ? 8080 : 8081;
}

/** The loads. */
export function scenarioDefaults(scenario: ScenarioName): Partial<StressOptions> {
  switch (scenario) {
    case "seed":
      // 48 users, 2 per room, 200 msg/s each: 9,600 sends and 19,200 deliveries per second.
      return { users: 48, roomSize: 2, rate: 200, durationS: 20 };
    case "ramp":
      // The original examples/stress_test: 1,200 users over 60 s, then 2,400 over 120 s more,
      // each in 5 rooms and sending every 10 s.
      return {
        stages: [
          { users: 1200, seconds: 60 },
          { users: 2400, seconds: 120 },
        ],
        stepsPerStage: 60,
        roomsPerUser: 5,
        rate: 0.1,
        durationS: 10,
      };
    case "fanout":
      return { users: 5000, rate: 10, senders: 1, durationS: 20 };
    case "idle":
      return { users: 15000, settleMs: 3000 };
    case "ceiling":
      return { users: 48, roomSize: 2, startRate: 200, stepFactor: 1.25, stepS: 5, maxSteps: 30 };
  }
}

export const BASE_DEFAULTS: Omit<StressOptions, "scenario" | "target"> = {
  extensions: false,
  users: 48,
  roomSize: 2,
  rate: 200,
  durationS: 20,
  stages: [],
  stepsPerStage: 60,
  roomsPerUser: 5,
  senders: 1,
  settleMs: 3000,
  startRate: 200,
  stepFactor: 1.25,
  stepS: 5,
  maxP99Ms: 50,
  maxSteps: 30,
  stepRetries: 1,
  drainMs: 3000,
  connectConcurrency: 256,
  messageBytes: 0,
  tickMs: 1,
  setupTimeoutMs: 60_000,
  randomSeed: 1,
};

/** Parses `1200:60,2400:120` into ramp stages. */
export function parseStages(text: string): RampStage[] {
  return text.split(",").map((part) => {
    const [u, s] = part.split(":");
    const users = Number(u);
    const seconds = Number(s);
    if (!Number.isInteger(users) || users < 1 || !(seconds >= 0)) {
      throw new Error(`--stages: "${part}" is not USERS:SECONDS`);
    }
    return { users, seconds };
  });
}
