import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  BASE_DEFAULTS,
  defaultPort,
  parseStages,
  scenarioDefaults,
  SCENARIOS,
  type ScenarioName,
  type StressOptions,
} from "./stress-options.js";

type NumericKey = {
  [K in keyof StressOptions]-?: StressOptions[K] extends number ? K : never;
}[keyof StressOptions];

/** Numeric flags: flag -> option, what it means, and whether fractions are allowed. */
const NUMERIC: ReadonlyArray<[flag: string, key: NumericKey, doc: string, fraction?: boolean]> = [
  ["users", "users", "simulated users (seed, fanout, idle, ceiling)"],
  ["room-size", "roomSize", "members per room (seed, ceiling)"],
  ["rate", "rate", "msg/s per sending user (fanout: into the room, in total)", true],
  ["duration", "durationS", "seconds of sending (ramp: seconds held after the ramp)", true],
  ["steps-per-stage", "stepsPerStage", "ramp: users arrive in this many steps per stage"],
  ["rooms-per-user", "roomsPerUser", "ramp: rooms each user joins (round-robin)"],
  ["senders", "senders", "fanout: members that send, sharing --rate"],
  ["settle-ms", "settleMs", "idle: wait after connecting before reading RSS, ms"],
  ["start-rate", "startRate", "ceiling: first msg/s per user", true],
  ["step-factor", "stepFactor", "ceiling: rate multiplier per step", true],
  ["step", "stepS", "ceiling: seconds per step", true],
  ["max-p99-ms", "maxP99Ms", "ceiling: a step with a higher p99 ends the search", true],
  ["max-steps", "maxSteps", "ceiling: at most this many steps"],
  ["step-retries", "stepRetries", "ceiling: run a failing step again (1) or not (0)"],
  ["drain-ms", "drainMs", "after sending, wait this long without progress for stragglers, ms"],
  ["connect-concurrency", "connectConcurrency", "connections being set up at once"],
  ["message-bytes", "messageBytes", "pad each message text to this many characters"],
  ["tick-ms", "tickMs", "sending schedule granularity, ms", true],
  ["setup-timeout-ms", "setupTimeoutMs", "a connection not ready after this long failed, ms"],
  ["random-seed", "randomSeed", "seed of the ramp's random first delays"],
];

export const STRESS_HELP = `Usage: npm run stress -- --scenario NAME [options]

Scenarios (defaults are the issue's loads):
  seed      48 users, 2 per room, 200 msg/s each, 20 s (the original's published load)
  ramp      1,200 users over 60 s, then 2,400 over 120 s; 5 rooms each, one message per 10 s
  fanout    one room with 5,000 members receiving 10 msg/s, 20 s
  idle      15,000 idle connections: server RSS per connection
  ceiling   seed's shape from 200 msg/s/user, x1.25 per 5 s step, until loss, errors or p99 > 50 ms
            (twice in a row at one rate)

Connection:
  --transport tcp|ws|socketio   default tcp (line-delimited JSON, the original protocol)
  --host H                      default 127.0.0.1
  --port N[,N...]               default 8080 (tcp), 8081 (ws, socketio); several ports: servers
                                sharing rooms (cluster nodes), users spread over them round-robin
                                (with the seed's 2 per room, the two members are on different ports)
  --path P                      WebSocket path, default /ws
  --tls                         over TLS: tcp on the server's TLS line port, ws as wss://
  --ca FILE                     with --tls: trust the CA certificate(s) in FILE (PEM) instead of
                                Node's CAs (for a server with a private or self-signed certificate)
  --jwt-secret S                a server with --auth: each user sends a token signed with this
                                HS256 secret (subject stress-N) in a hello before joining;
                                default: the PARLEY_JWT_SECRET environment variable if set
  --original-only               send only original commands (default)
  --extensions                  also send the extension hello, and count error/slow_down events
  --server-pid PID[,PID...]     read this process's CPU and RSS from /proc (several: summed)

Output:
  --json                        print the report as JSON
  --progress / --no-progress    progress line on stderr (default: when stderr is a terminal)

Sizes, durations and rates:
${NUMERIC.map(([flag, , doc]) => `  --${flag.padEnd(28)}${doc}`).join("\n")}
  --stages U:S,U:S              ramp: reach U users (total) over S seconds, stage after stage
`;

export interface ParsedStressArgs {
  options: StressOptions;
  json: boolean;
  /** undefined: decide from the terminal */
  progress: boolean | undefined;
}

export function parseStressArgs(argv: readonly string[]): ParsedStressArgs | "help" {
  const spec: Record<string, { type: "string" | "boolean" }> = {
    help: { type: "boolean" },
    scenario: { type: "string" },
    transport: { type: "string" },
    host: { type: "string" },
    port: { type: "string" },
    path: { type: "string" },
    tls: { type: "boolean" },
    ca: { type: "string" },
    "jwt-secret": { type: "string" },
    "original-only": { type: "boolean" },
    extensions: { type: "boolean" },
    "server-pid": { type: "string" },
    json: { type: "boolean" },
    progress: { type: "boolean" },
    "no-progress": { type: "boolean" },
    stages: { type: "string" },
  };
  for (const [flag] of NUMERIC) spec[flag] = { type: "string" };
  const { values } = parseArgs({ args: [...argv], options: spec, strict: true });
  if (values.help === true) return "help";

  const scenario = values.scenario;
  if (typeof scenario !== "string" || !(SCENARIOS as readonly string[]).includes(scenario)) {
    throw new Error(`--scenario must be one of ${SCENARIOS.join(", ")}`);
  }
  const kind = (values.transport ?? "tcp") as string;
  if (kind !== "tcp" && kind !== "ws" && kind !== "socketio") {
    throw new Error(`--transport must be tcp, ws or socketio`);
  }
  if (values["original-only"] === true && values.extensions === true) {
    throw new Error("--original-only and --extensions exclude each other");
  }
  const options: StressOptions = {
    ...BASE_DEFAULTS,
    ...scenarioDefaults(scenario as ScenarioName),
    scenario: scenario as ScenarioName,
    target: {
      kind,
      host: typeof values.host === "string" ? values.host : "127.0.0.1",
      port: defaultPort(kind),
      path: typeof values.path === "string" ? values.path : "/ws",
    },
    extensions: values.extensions === true,
  };
  const secret = values["jwt-secret"] ?? process.env.PARLEY_JWT_SECRET;
  if (typeof secret === "string" && secret !== "") options.jwtSecret = secret;
  if (typeof values.ca === "string" && values.tls !== true) throw new Error("--ca goes with --tls");
  if (values.tls === true) {
    if (kind === "socketio") throw new Error("--tls is for the tcp and ws transports");
    options.target.tls = typeof values.ca === "string" ? { ca: readCa(values.ca) } : {};
  }
  if (typeof values.port === "string") {
    const ports = list(values.port, "port");
    options.target.port = ports[0]!;
    if (ports.length > 1) options.target.ports = ports;
  }
  if (typeof values["server-pid"] === "string") {
    const [pid, ...others] = list(values["server-pid"], "server-pid");
    options.serverPid = pid!;
    if (others.length > 0) options.otherServerPids = others;
  }
  if (typeof values.stages === "string") options.stages = parseStages(values.stages);
  for (const [flag, key, , fraction] of NUMERIC) {
    const raw = values[flag];
    if (typeof raw !== "string") continue;
    options[key] = fraction ? positive(raw, flag) : whole(raw, flag);
  }
  if (options.roomSize < 1) throw new Error("--room-size must be at least 1");
  if (options.tickMs <= 0) throw new Error("--tick-ms must be above 0");
  if (options.scenario === "ramp" && options.stages.length === 0) {
    throw new Error("--stages must list at least one stage");
  }
  return {
    options,
    json: values.json === true,
    progress: values["no-progress"] === true ? false : values.progress === true ? true : undefined,
  };
}

function readCa(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`--ca: ${(err as Error).message}`);
  }
}

/** `N[,N...]`: one or more whole numbers. */
function list(raw: string, flag: string): number[] {
  return raw.split(",").map((part) => whole(part, flag));
}

function whole(raw: string, flag: string): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isSafeInteger(n) || n < 0) {
    throw new Error(`--${flag}: "${raw}" is not a whole number >= 0`);
  }
  return n;
}

function positive(raw: string, flag: string): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new Error(`--${flag}: "${raw}" is not a number >= 0`);
  }
  return n;
}
