#!/usr/bin/env node
/**
 * Wake-ups at quiet loads: how often a server's threads are woken (voluntary context switches,
 * from /proc/PID/task/TID/status) and how much CPU it uses with N idle members of one room, then
 * while two of them chat at a low rate.
 *
 *   tsx bench/wakeups.ts --port P --pid PID [--idle 1000] [--seconds 10] [--rates 1,100]
 *
 * The server must already listen on 127.0.0.1:P (line TCP, the original protocol) as process PID;
 * pin it and this apart (taskset) for steady figures. Prints one line per load.
 */
import { readdirSync, readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    pid: { type: "string" },
    idle: { type: "string", default: "1000" },
    seconds: { type: "string", default: "10" },
    rates: { type: "string", default: "1,100" },
    room: { type: "string", default: "general" },
  },
});
const port = Number(values.port);
const pid = Number(values.pid);
if (!(port > 0) || !(pid > 0)) {
  process.stderr.write(
    "usage: wakeups.ts --port P --pid PID [--idle N] [--seconds S] [--rates R,...]\n",
  );
  process.exit(2);
}
const seconds = Number(values.seconds);
const room = values.room;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Voluntary context switches of all the process's threads, and its CPU time in ms. */
function sample(): { wakeups: number; cpuMs: number } {
  let wakeups = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const status = readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8");
    wakeups += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  }
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { wakeups, cpuMs: (Number(f[11]) + Number(f[12])) * 10 };
}

const line = (o: object): string => `${JSON.stringify(o)}\r\n`;
const sockets: Socket[] = [];
for (let i = 0; i < Number(values.idle); i++) {
  const s = connect(port, "127.0.0.1");
  s.on("data", () => {});
  s.on("error", () => {});
  s.once("connect", () => s.write(line({ _ct: "join_room", r: room })));
  sockets.push(s);
  if (i % 50 === 49) await sleep(20); // joins spread out: every join is announced to the room
}
await sleep(3000);

async function measure(rate: number): Promise<void> {
  const a = sample();
  let sent = 0;
  const timer =
    rate > 0
      ? setInterval(() => {
          sockets[sent % 2]!.write(line({ _ct: "send_message", r: room, c: "x" }));
          sent++;
        }, 1000 / rate)
      : undefined;
  await sleep(seconds * 1000);
  if (timer) clearInterval(timer);
  await sleep(200); // the last message's deliveries
  const b = sample();
  const s = seconds + 0.2;
  process.stdout.write(
    `${sockets.length} members, ${rate} msg/s: ${((b.wakeups - a.wakeups) / s).toFixed(1)} wake-ups/s, ` +
      `CPU ${((b.cpuMs - a.cpuMs) / s / 10).toFixed(2)}% of a core, ${sent} messages\n`,
  );
}

await measure(0);
for (const r of values.rates.split(",").map(Number)) await measure(r);
for (const s of sockets) s.destroy();
