/** Test harness: a real Parley on port 0 and raw-socket clients that speak the wire protocol. */
import { connect, type Socket } from "node:net";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { startApp, type App } from "../../src/app.js";
import { defaultConfig } from "../../src/config.js";
import type { ConnectionMiddleware, Limits, Metrics } from "../../src/core/index.js";
import { CounterMetrics, silentLogger } from "../../src/core/index.js";
import { loadRooms } from "../../src/room-catalog.js";
import type { Event } from "../../src/protocol/index.js";
import {
  LengthPrefixedFramer,
  LineFramer,
  encodeLengthPrefixed,
} from "../../src/protocol/index.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const ROOMS = loadRooms(`${ROOT}resources/chat_rooms_metadatas.json`);

export interface TestServer {
  app: App;
  port: number;
  lpPort: number;
  metrics: CounterMetrics;
  stop(): Promise<void>;
}

export async function startServer(
  options: {
    limits?: Partial<Limits>;
    middleware?: ConnectionMiddleware[];
    metrics?: Metrics;
  } = {},
): Promise<TestServer> {
  const config = defaultConfig();
  config.host = "127.0.0.1";
  config.tcpPort = 0;
  config.lpPort = 0;
  config.httpPort = 0;
  config.store = { kind: "memory" };
  Object.assign(config.limits, { shutdownGraceMs: 2_000 }, options.limits);
  const metrics = new CounterMetrics();
  const app = await startApp({
    config,
    rooms: ROOMS,
    logger: silentLogger,
    metrics: options.metrics ?? metrics,
    ...(options.middleware && { middleware: options.middleware }),
  });
  return { app, port: app.ports.tcp!, lpPort: app.ports.lp!, metrics, stop: () => app.stop() };
}

type Waiter = { pred: (e: Event) => boolean; resolve: (e: Event) => void };

/** A client on a raw socket: collects every event, lets a test await the next matching one. */
export class WireClient {
  readonly events: Event[] = [];
  /** index of the next event `next()` looks at */
  private cursor = 0;
  private waiters: Waiter[] = [];
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(
    readonly socket: Socket,
    private readonly lengthPrefixed: boolean,
  ) {
    const framer = lengthPrefixed ? new LengthPrefixedFramer(1 << 24) : new LineFramer(1 << 24);
    socket.on("data", (chunk: Buffer) => {
      framer.push(chunk);
      for (let f = framer.next(); f !== undefined; f = framer.next()) {
        if (typeof f !== "string") throw new Error(`client framing error: ${f.message}`);
        this.events.push(JSON.parse(f) as Event);
      }
      this.wake();
    });
    socket.on("error", () => {});
    // not events.once: it rejects when "error" (a reset by a killed server) comes first
    this.closed = new Promise<void>((r) => socket.once("close", () => r())).then(() => {
      this.isClosed = true;
      this.wake();
    });
  }

  static async connect(port: number, opts: { lengthPrefixed?: boolean } = {}): Promise<WireClient> {
    const socket = connect({ port, host: "127.0.0.1" });
    await once(socket, "connect");
    return new WireClient(socket, opts.lengthPrefixed ?? false);
  }

  /** Connects and waits for login_successful. */
  static async login(
    port: number,
    opts: { lengthPrefixed?: boolean } = {},
  ): Promise<WireClient & { login: Event & { _et: "login_successful" } }> {
    const c = await WireClient.connect(port, opts);
    const login = await c.next("login_successful");
    return Object.assign(c, { login: login as Event & { _et: "login_successful" } });
  }

  get userId(): string {
    const first = this.events[0];
    if (first?._et !== "login_successful") throw new Error("not logged in");
    return first.u;
  }

  send(cmd: object): void {
    this.sendRaw(JSON.stringify(cmd));
  }

  sendRaw(text: string | Buffer): void {
    if (this.lengthPrefixed)
      this.socket.write(typeof text === "string" ? encodeLengthPrefixed(text) : text);
    else this.socket.write(typeof text === "string" ? text + "\r\n" : text);
  }

  /** Sends hello and waits for welcome. */
  async hello(name?: string): Promise<Event> {
    this.send(name === undefined ? { _ct: "hello", v: 1 } : { _ct: "hello", v: 1, n: name });
    return this.next("welcome");
  }

  async join(room: string): Promise<void> {
    this.send({ _ct: "join_room", r: room });
    await this.next(
      (e) =>
        e._et === "room_participation" && e.r === room && e.u === this.userId && e.s === "joined",
    );
  }

  /**
   * Resolves with the next event (after the cursor) of the given type or matching the predicate;
   * events skipped over stay in `events`. Rejects after `timeoutMs`.
   */
  next(match: string | ((e: Event) => boolean), timeoutMs = 5_000): Promise<Event> {
    const pred = typeof match === "string" ? (e: Event) => e._et === match : match;
    const found = this.scan(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `timed out waiting for ${String(match)}; got ${JSON.stringify(this.events.slice(-5))}`,
          ),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        pred,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Waits until `n` events of a type have arrived in total. */
  async collect(type: string, n: number, timeoutMs = 10_000): Promise<Event[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.events.filter((e) => e._et === type);
      if (got.length >= n) return got;
      if (Date.now() > deadline || this.isClosed) {
        throw new Error(`expected ${n} ${type} events, got ${got.length}`);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  private scan(pred: (e: Event) => boolean): Event | undefined {
    while (this.cursor < this.events.length) {
      const e = this.events[this.cursor++]!;
      if (pred(e)) return e;
    }
    return undefined;
  }

  private wake(): void {
    while (this.waiters.length > 0) {
      const w = this.waiters[0]!;
      const e = this.scan(w.pred);
      if (!e) return;
      this.waiters.shift();
      w.resolve(e);
    }
  }

  /** Drops every event received so far (a long-running client keeping its memory flat). */
  forget(): void {
    this.events.length = 0;
    this.cursor = 0;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Resolves after `ms`; for letting a server act on something that has no observable reply. */
export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts `src/main.ts` as a real process; resolves once it logs its listening ports. */
export async function spawnServer(
  args: string[],
  /** added to the server's environment */
  env: Record<string, string> = {},
): Promise<{
  proc: ChildProcessWithoutNullStreams;
  /** `http` too when the args turn HTTP on */
  ports: { tcp?: number; lp?: number; http?: number };
  output: () => string;
  exited: Promise<number | null>;
}> {
  const proc = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...httpOff(args)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  let out = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = once(proc, "exit").then(([code]) => code as number | null);
  const ports = await new Promise<{ tcp?: number; lp?: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`server did not start: ${out}`));
    }, 15_000);
    const check = (): void => {
      const line = out.split("\n").find((l) => l.includes('"parley listening"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { tcp?: number; lp?: number });
      }
    };
    proc.stdout.on("data", check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server exited during start: ${out}`));
    });
  });
  return { proc, ports, output: () => out, exited };
}

/** Runs `src/main.ts` to completion (for bootstrap errors). */
export async function runServerToExit(
  args: string[],
  timeoutMs = 15_000,
): Promise<{ code: number | null; output: string }> {
  const proc = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...httpOff(args)], {
    cwd: ROOT,
  });
  let output = "";
  proc.stdout.on("data", (d: Buffer) => (output += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [code] = (await once(proc, "exit")) as [number | null];
  clearTimeout(timer);
  return { code, output };
}

/**
 * Spawned servers run without HTTP unless a test asks for it, so parallel tests never share :8081,
 * and with an in-memory store unless a test names one, so none writes to the repo's data/.
 */
function httpOff(args: string[]): string[] {
  const out = args.some((a) => a.startsWith("--http-port"))
    ? args
    : [...args, "--http-port", "off"];
  return out.some((a) => a.startsWith("--store")) ? out : [...out, "--store", "memory"];
}
