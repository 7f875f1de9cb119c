/**
 * Fan-out benchmark for one transport: N members in one room, one of them sending R messages/s
 * for S seconds. Reports deliveries/s, delivery latency (send -> receive, same process clock),
 * loss, and the server's CPU time per delivery (from /proc). The server runs as its own process.
 *
 *   taskset -c 1 npx tsx bench/transport-fanout.ts --transport ws --clients 500 --rate 100 --seconds 5
 *
 * The server is started pinned to core 0 (taskset -c 0); pin this load generator to core 1.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { encodeLengthPrefixed, LengthPrefixedFramer } from "../src/protocol/index.js";

const { values } = parseArgs({
  options: {
    transport: { type: "string", default: "ws" },
    clients: { type: "string", default: "500" },
    rate: { type: "string", default: "100" },
    seconds: { type: "string", default: "5" },
  },
});
const transport = values.transport as "ws" | "tcp" | "tcp-lp";
const clients = Number(values.clients);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const ROOM = "general";

interface Member {
  send(json: string): void;
  onEvent: (json: string) => void;
  close(): void;
}

function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in ticks of 10 ms
}

async function open(ports: { tcp: number; lp: number; http: number }): Promise<Member> {
  const m: Member = { send: () => {}, onEvent: () => {}, close: () => {} };
  if (transport === "ws") {
    const ws = new WebSocket(`ws://127.0.0.1:${ports.http}/ws`);
    ws.on("message", (d: Buffer) => m.onEvent(d.toString()));
    await new Promise((r) => ws.once("open", r));
    m.send = (j) => ws.send(j);
    m.close = () => ws.terminate();
  } else if (transport === "tcp") {
    const s = connect({ host: "127.0.0.1", port: ports.tcp, noDelay: true });
    let rest = "";
    s.setEncoding("utf8").on("data", (chunk: string) => {
      const parts = (rest + chunk).split("\r\n");
      rest = parts.pop()!;
      for (const p of parts) m.onEvent(p);
    });
    await new Promise((r) => s.once("connect", r));
    m.send = (j) => s.write(j + "\r\n");
    m.close = () => s.destroy();
  } else {
    const s = connect({ host: "127.0.0.1", port: ports.lp, noDelay: true });
    const framer = new LengthPrefixedFramer(1 << 20);
    s.on("data", (chunk: Buffer) => {
      framer.push(chunk);
      for (let f = framer.next(); typeof f === "string"; f = framer.next()) m.onEvent(f);
    });
    await new Promise((r) => s.once("connect", r));
    m.send = (j) => s.write(encodeLengthPrefixed(j));
    m.close = () => s.destroy();
  }
  return m;
}

/** A port that was free a moment ago (the server logs at warn level, so it cannot tell us). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function main(): Promise<void> {
  const ports = { tcp: await freePort(), lp: await freePort(), http: await freePort() };
  const server = spawn(
    "taskset",
    [
      "-c",
      "0",
      process.execPath,
      "--import",
      "tsx",
      "src/main.ts",
      "--host=127.0.0.1",
      `--port=${ports.tcp}`,
      `--lp-port=${ports.lp}`,
      `--http-port=${ports.http}`,
      "--log-level=warn",
      "--store=off",
      `--max-connections=${clients + 10}`,
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  for (let up = false; !up;) {
    await new Promise((r) => setTimeout(r, 100));
    up = await fetch(`http://127.0.0.1:${ports.http}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
  }

  const latencies: number[] = [];
  let received = 0;
  const members: Member[] = [];
  let joined = 0;
  for (let i = 0; i < clients; i++) {
    const m = await open(ports);
    m.onEvent = (json) => {
      if (json.includes('"user_joined_room"')) joined++;
      else if (json.includes('"user_message"')) {
        const c = /"c":"([\d.]+)"/.exec(json);
        if (c) {
          latencies.push(performance.now() - Number(c[1]));
          received++;
        }
      }
    };
    m.send(JSON.stringify({ _ct: "join_room", r: ROOM }));
    members.push(m);
  }
  while (joined < clients) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 300)); // let join notices settle

  const sender = members[0]!;
  const total = rate * seconds;
  const cpu0 = cpuMs(server.pid!);
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sender.send(JSON.stringify({ _ct: "send_message", r: ROOM, c: String(performance.now()) }));
  }
  const expected = total * clients;
  const deadline = performance.now() + 5_000;
  while (received < expected && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuMs(server.pid!) - cpu0;

  latencies.sort((a, b) => a - b);
  const pct = (p: number): string =>
    (latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN).toFixed(2);
  console.log(
    JSON.stringify({
      transport,
      clients,
      rate,
      seconds,
      deliveriesPerSec: Math.round(received / elapsed),
      loss: expected - received,
      latencyMs: { p50: pct(0.5), p99: pct(0.99), max: latencies.at(-1)?.toFixed(2) },
      serverCpuMs: cpu,
      serverCpuUsPerDelivery: received ? +((cpu * 1000) / received).toFixed(2) : null,
    }),
  );
  for (const m of members) m.close();
  server.kill("SIGTERM");
}

await main();
