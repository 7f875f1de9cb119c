// A real cluster: three Parley processes, one redis-server and one PostgreSQL, all on loopback,
// started here and stopped after. Users on different nodes and transports share rooms.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import type { Event } from "../../src/protocol/index.js";
import {
  failoverTransport,
  ParleyClient,
  parseAddress,
  transportFor,
} from "../../clients/lib/node.js";
import { eventually } from "../bus/contract.js";
import { LineClient, LpClient, WsClient } from "./support/chat-clients.js";
import { delay, spawnServer } from "../helpers/harness.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";

type Msg = Extract<Event, { _et: "user_message" }>;

interface Node {
  proc: ChildProcessWithoutNullStreams;
  exited: Promise<number | null>;
  tcp: number;
  lp: number;
  http: number;
  output(): string;
}

let redis: TestRedis;
let pg: TestPostgres;
let db = 0;
const running = new Set<Node>();

before(async () => {
  [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
});
after(async () => {
  for (const n of running) n.proc.kill("SIGKILL");
  await Promise.allSettled([redis?.close(), pg?.stop()]);
});

async function cluster(size: number, extra: string[] = []): Promise<Node[]> {
  const store = await pg.createDatabase(`cluster${++db}`);
  const nodes: Node[] = [];
  for (let i = 0; i < size; i++) {
    const s = await spawnServer([
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--lp-port",
      "0",
      "--http-port",
      "0",
      "--store",
      store,
      "--bus",
      redis.url,
      "--node-id",
      `db${db}-node${i}`,
      "--rate",
      "100000",
      "--rate-burst",
      "100000",
      ...extra,
    ]);
    const ports = s.ports as { tcp: number; lp: number; http: number };
    const node = { proc: s.proc, exited: s.exited, ...ports, output: s.output };
    running.add(node);
    nodes.push(node);
  }
  return nodes;
}

async function stop(nodes: Node[]): Promise<void> {
  for (const n of nodes) {
    if (n.proc.exitCode === null && n.proc.signalCode === null) n.proc.kill("SIGTERM");
    await n.exited;
    running.delete(n);
  }
}

async function metric(node: Node, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${node.http}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

const messages = (c: { events: readonly Event[] }, room: string): Msg[] =>
  c.events.filter((e): e is Msg => e._et === "user_message" && e.r === room);

describe("a cluster of three nodes on Redis and PostgreSQL", () => {
  it("gives users on different nodes and transports one room in one order", async () => {
    const [n0, n1, n2] = await cluster(3);
    try {
      const alice = await LineClient.open(n0!.tcp);
      const bob = await WsClient.open(n1!.http);
      const carol = await LpClient.open(n2!.lp);
      const clients = [alice, bob, carol];
      const names = ["alice", "bob", "carol"];
      for (const [i, c] of clients.entries()) {
        await c.login(names[i]);
        await c.join("general");
      }
      for (let k = 0; k < 30; k++) {
        for (const [i, c] of clients.entries()) {
          c.send({ _ct: "send_message", r: "general", c: `${names[i]} ${k}` });
        }
      }
      await eventually(
        () => clients.every((c) => messages(c, "general").length === 90),
        20_000,
        "90 messages everywhere",
      );
      const order = messages(alice, "general").map((m) => m.c);
      for (const c of [bob, carol]) {
        assert.deepEqual(
          messages(c, "general").map((m) => m.c),
          order,
        );
      }
      assert.deepEqual(
        messages(carol, "general").map((m) => m.id),
        Array.from({ length: 90 }, (_, i) => i + 1),
      );
      for (const c of clients) c.close();
    } finally {
      await stop([n0!, n1!, n2!]);
    }
  });

  it("holds presence and unique names for the whole cluster, and routes a room only to nodes with members", async () => {
    const [n0, n1, n2] = await cluster(3);
    try {
      const alice = await LineClient.open(n0!.tcp);
      await alice.login("alice");
      await alice.join("rust");
      const bob = await WsClient.open(n1!.http);
      await bob.login("bob");
      bob.send({ _ct: "join_room", r: "rust" });
      const joined = await bob.waitFor("user_joined_room", (e) => e.r === "rust");
      assert.deepEqual(joined.ms!.map((m) => m.n).sort(), ["alice", "bob"]);
      await alice.waitFor("room_participation", (e) => e.n === "bob" && e.s === "joined", 10_000);
      // a name held on node 0 is refused on node 2, case-insensitively
      const mallory = await LpClient.open(n2!.lp);
      await mallory.waitFor("login_successful");
      mallory.send({ _ct: "hello", v: 1, n: "ALICE" });
      assert.equal((await mallory.waitFor("error", () => true, 10_000)).code, "NAME_TAKEN");
      mallory.send({ _ct: "list_rooms" });
      const list = await mallory.waitFor("room_list", () => true, 10_000);
      assert.equal(list.rs.find((r) => r.n === "rust")!.m, 2);
      // node 2 has no member in "rust": none of its traffic reaches it
      const before = await metric(n2!, "parley_bus_messages_received_total");
      for (let k = 0; k < 20; k++) alice.send({ _ct: "send_message", r: "rust", c: `r${k}` });
      await eventually(() => messages(bob, "rust").length === 20, 10_000, "bob has them");
      await delay(200);
      assert.equal(await metric(n2!, "parley_bus_messages_received_total"), before);
      assert.ok((await metric(n1!, "parley_bus_messages_received_total")) >= 20);
      for (const c of [alice, bob, mallory]) c.close();
    } finally {
      await stop([n0!, n1!, n2!]);
    }
  });

  it("loses no acknowledged message and shows none twice when a node is killed under load: its clients resume on another", async () => {
    const nodes = await cluster(3);
    const [n0, n1, n2] = nodes;
    try {
      const addresses = (n: Node[]) =>
        failoverTransport(n.map((x) => transportFor(parseAddress(`127.0.0.1:${x.tcp}`))));
      // readers on node 1, then 2, then 0 (their first connection is to node 1)
      const readers = Array.from(
        { length: 3 },
        (_, i) =>
          new ParleyClient({
            transport: addresses([n1!, n2!, n0!]),
            name: `reader${i}`,
            backoff: { baseMs: 50, maxMs: 500 },
            heartbeatMs: 1_000,
          }),
      );
      const sender = new ParleyClient({
        transport: addresses([n0!, n2!]),
        name: "sender",
        backoff: { baseMs: 50, maxMs: 500 },
        heartbeatMs: 1_000,
      });
      const got = readers.map(() => [] as Msg[]);
      readers.forEach((r, i) =>
        r.on("event", (e) => {
          if (e._et === "user_message" && e.r === "general") got[i]!.push(e);
        }),
      );
      for (const c of [...readers, sender]) {
        await c.connect();
        c.join("general");
      }
      await delay(500);
      const sent: string[] = [];
      let sending = true;
      const pump = (async () => {
        for (let k = 0; sending; k++) {
          sender.send("general", `m${k}`);
          sent.push(`m${k}`);
          await delay(5);
        }
      })();
      await delay(800);
      n1!.proc.kill("SIGKILL"); // the readers' node dies
      await n1!.exited;
      running.delete(n1!);
      await delay(1_500);
      sending = false;
      await pump;
      // every message the sender got confirmed reached every reader exactly once, in order
      await eventually(() => sender.pending.length === 0, 20_000, "the sender's outbox empty");
      const want = sent;
      await eventually(
        () => got.every((g) => g.length >= want.length),
        30_000,
        "every reader has every message",
      );
      for (const g of got) {
        assert.deepEqual(
          g.map((m) => m.c),
          want,
          "every message once, in order",
        );
        g.forEach((m, i) => i > 0 && assert.equal(m.id, g[i - 1]!.id! + 1));
      }
      for (const c of [...readers, sender]) c.close();
    } finally {
      await stop(nodes.filter((n) => n !== n1));
    }
  });

  it("loses and repeats nothing when the sender's own node is killed mid-burst: its outbox goes on through another", async () => {
    const nodes = await cluster(2);
    const [n0, n1] = nodes;
    try {
      const via = (n: Node[]) =>
        failoverTransport(n.map((x) => transportFor(parseAddress(`127.0.0.1:${x.tcp}`))));
      const options = { backoff: { baseMs: 50, maxMs: 500 }, heartbeatMs: 1_000 };
      const sender = new ParleyClient({
        transport: via([n0!, n1!]),
        name: "s",
        outboxLimit: 1_000,
        ...options,
      });
      const reader = new ParleyClient({ transport: via([n1!, n0!]), name: "r", ...options });
      const got: Msg[] = [];
      reader.on("event", (e) => {
        if (e._et === "user_message" && e.r === "general") got.push(e);
      });
      const senderEvents: unknown[] = [];
      sender.on("event", (e) => {
        if (e._et !== "user_message" || senderEvents.length < 1000)
          senderEvents.push(e._et === "user_message" ? [e.id, e.c, e.cid, e.u] : e);
      });
      sender.on("joined", (j) => senderEvents.push({ joined: j }));
      for (const c of [sender, reader]) {
        await c.connect();
        c.join("general");
      }
      await delay(500);
      const sent: string[] = [];
      for (let k = 0; k < 400; k++) {
        sender.send("general", `b${k}`);
        sent.push(`b${k}`);
        if (k === 200) {
          n0!.proc.kill("SIGKILL"); // the sender's node, with messages in flight
          await n0!.exited;
          running.delete(n0!);
        }
        if (k % 20 === 0) await delay(5);
      }
      await eventually(() => sender.pending.length === 0, 30_000, "the sender's outbox empty");
      await eventually(() => got.length >= sent.length, 30_000, "the reader has every message");
      await delay(300);
      const seen = new Map<string, Msg>();
      const dups = got.filter((m) => {
        const first = seen.get(m.c);
        seen.set(m.c, m);
        return first !== undefined;
      });
      if (dups.length > 0) {
        console.log(
          "DUPS",
          JSON.stringify(dups.slice(0, 3)),
          JSON.stringify(got.filter((m) => m.c === dups[0]!.c)),
          JSON.stringify(
            senderEvents.filter(
              (e) =>
                !Array.isArray(e) || (e[0] >= 78 && e[0] <= 90) || (e[0] >= 158 && e[0] <= 166),
            ),
          ),
        );
      }
      assert.deepEqual(
        got.map((m) => m.c),
        sent,
        "every message once, in order",
      );
      for (const c of [sender, reader]) c.close();
    } finally {
      await stop(nodes.filter((n) => n !== n0));
    }
  });

  it("keeps serving each node's members while Redis is down, says so, and delivers everything once it is back", async () => {
    const nodes = await cluster(2);
    const [n0, n1] = nodes;
    try {
      const alice = await LineClient.open(n0!.tcp);
      const bob = await LineClient.open(n1!.tcp);
      for (const c of [alice, bob]) {
        await c.login();
        await c.join("general");
      }
      alice.send({ _ct: "send_message", r: "general", c: "before" });
      await eventually(() => messages(bob, "general").length === 1, 10_000, "before");
      await redis.stop();
      const sent: string[] = [];
      for (let k = 0; k < 30; k++) {
        alice.send({ _ct: "send_message", r: "general", c: `during ${k}` });
        sent.push(`during ${k}`);
        await delay(20);
      }
      // alice's node stores and delivers to its own members meanwhile
      await eventually(() => messages(alice, "general").length === 31, 10_000, "alice's echoes");
      const ready = await fetch(`http://127.0.0.1:${n1!.http}/readyz`);
      assert.match(await ready.text(), /bus: down/);
      assert.equal(await metric(n1!, "parley_bus_up"), 0);
      await redis.start();
      await eventually(
        () => messages(bob, "general").length === 31,
        30_000,
        "bob gets what he missed once Redis is back",
      );
      assert.deepEqual(
        messages(bob, "general").map((m) => m.c),
        ["before", ...sent],
      );
      // and the live path works again
      alice.send({ _ct: "send_message", r: "general", c: "after" });
      await eventually(() => messages(bob, "general").length === 32, 10_000, "after");
      assert.equal(await metric(n1!, "parley_bus_up"), 1);
      for (const c of [alice, bob]) c.close();
    } finally {
      await stop(nodes);
    }
  });

  it("runs --workers 2 on shared ports, every room shared between the workers, and restarts a worker that dies", async () => {
    const store = await pg.createDatabase(`workers${++db}`);
    const s = await spawnServer([
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--lp-port",
      "off",
      "--http-port",
      "0",
      "--store",
      store,
      "--bus",
      redis.url,
      "--workers",
      "2",
      "--node-id",
      `wk${db}`,
    ]);
    const port = s.ports.tcp!;
    try {
      // the first worker's "listening" resolved spawnServer: wait for the second's
      await eventually(
        () => s.output().split('"msg":"parley listening"').length > 2,
        20_000,
        "both workers listening",
      );
      const clients: LineClient[] = [];
      for (let i = 0; i < 12; i++) {
        const c = await LineClient.open(port);
        await c.login(`u${i}`);
        await c.join("general");
        clients.push(c);
      }
      // both workers hold members of the room: the connections were shared out
      const fields = await redis.cli("HKEYS", "parley:m:{general}");
      const nodes = new Set(
        fields
          .trim()
          .split("\n")
          .map((f) => f.split("/")[0]),
      );
      assert.deepEqual([...nodes].sort(), [`wk${db}-w0`, `wk${db}-w1`]);
      for (const [i, c] of clients.entries()) {
        c.send({ _ct: "send_message", r: "general", c: `from ${i}` });
      }
      await eventually(
        () => clients.every((c) => messages(c, "general").length === 12),
        15_000,
        "every member has every message",
      );
      const order = messages(clients[0]!, "general").map((m) => m.c);
      for (const c of clients)
        assert.deepEqual(
          messages(c, "general").map((m) => m.c),
          order,
        );
      // a worker dies: the supervisor starts it again
      const pids = [...s.output().matchAll(/"pid":(\d+)/g)].map((m) => Number(m[1]));
      assert.ok(pids.length >= 2, "both workers logged their pid");
      process.kill(pids[0]!, "SIGKILL");
      await eventually(() => /worker died: restarting it/.test(s.output()), 10_000, "restart");
      for (const c of clients) c.close();
    } finally {
      s.proc.kill("SIGTERM");
      assert.equal(await s.exited, 0, "the workers and their supervisor stop gracefully");
    }
  });
});
