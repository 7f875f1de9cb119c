// Shared by the client library's history tests: a reader (a ParleyClient that records what it
// passes on), a raw sender that keeps sending, and transports by name.
import type { UserMessageEvent } from "../../src/protocol/index.js";
import type {
  JoinStatus,
  ParleyClientOptions,
  RoomJoined,
} from "../../clients/lib/client-types.js";
import { nodeWebSocketTransport } from "../../clients/lib/node-websocket.js";
import { ParleyClient } from "../../clients/lib/parley-client.js";
import { tcpTransport } from "../../clients/lib/tcp-transport.js";
import type { Transport } from "../../clients/lib/transport.js";
import { delay, WireClient } from "../helpers/harness.js";
import { ManualClock, until, waitFor } from "./support.js";

export const ROOM = "general";
/** long enough for any backoff delay these tests can draw */
export const PAST_ANY_BACKOFF = 60_000;

export type TransportKind = "line" | "length-prefixed" | "websocket";
export const TRANSPORTS: readonly TransportKind[] = ["line", "length-prefixed", "websocket"];

/** Ports of one server, by transport. */
export interface Ports {
  tcp: number;
  lp: number;
  http: number;
}

export function portOf(kind: TransportKind, ports: Ports): number {
  return kind === "line" ? ports.tcp : kind === "length-prefixed" ? ports.lp : ports.http;
}

export function transportTo(kind: TransportKind, port: number): Transport {
  switch (kind) {
    case "line":
      return tcpTransport({ host: "127.0.0.1", port, framing: "line" });
    case "length-prefixed":
      return tcpTransport({ host: "127.0.0.1", port, framing: "length-prefixed" });
    case "websocket":
      return nodeWebSocketTransport(`ws://127.0.0.1:${port}/ws`);
  }
}

/** A ParleyClient on a manual clock that records the messages and joins it passes on. */
export class Reader {
  readonly client: ParleyClient;
  readonly clock = new ManualClock();
  readonly messages: UserMessageEvent[] = [];
  readonly joins: RoomJoined[] = [];

  constructor(transport: Transport, options: Partial<ParleyClientOptions> = {}) {
    this.client = new ParleyClient({
      transport,
      clock: this.clock,
      random: () => 0.5,
      heartbeatMs: 0,
      ...options,
    });
    this.client.on("event", (ev) => {
      if (ev._et === "user_message") this.messages.push(ev);
    });
    this.client.on("joined", (j) => this.joins.push(j));
  }

  texts(room = ROOM): string[] {
    return this.messages.filter((m) => m.r === room).map((m) => m.c);
  }

  ids(room = ROOM): number[] {
    return this.messages.filter((m) => m.r === room).map((m) => m.id!);
  }

  /** Joins and waits until the join is live; returns how it went live. */
  async join(room = ROOM, backlog?: number): Promise<RoomJoined> {
    const live = waitFor(this.client, "joined", (j) => j.room === room, 10_000);
    this.client.join(room, backlog === undefined ? {} : { backlog });
    return (await live)[0];
  }

  /** Waits until the link is down (the client waits to reconnect). */
  async down(): Promise<void> {
    if (this.client.status.state === "waiting") return;
    await waitFor(this.client, "status", (s) => s.state === "waiting", 10_000);
  }

  /** Lets the backoff timer fire; resolves with the room's rejoin once it is live. */
  async reconnect(room = ROOM): Promise<RoomJoined> {
    const live = waitFor(this.client, "joined", (j) => j.room === room, 15_000);
    this.clock.advance(PAST_ANY_BACKOFF);
    return (await live)[0];
  }

  async receives(text: string, ms = 15_000): Promise<void> {
    await until(
      () => this.texts().includes(text),
      ms,
      () => `"${text}"; got ${this.texts().length}`,
    );
  }

  status(): JoinStatus | undefined {
    return this.joins.at(-1)?.status;
  }
}

/** A raw line-TCP member of `room` (an extension client: its messages carry ids). */
export async function sender(port: number, room = ROOM): Promise<WireClient> {
  const c = await WireClient.login(port);
  await c.hello();
  await c.join(room);
  return c;
}

/** The texts of the user_message events `c` received in `room`, in order. */
export function received(c: WireClient, room = ROOM): string[] {
  return c.events.flatMap((e) => (e._et === "user_message" && e.r === room ? [e.c] : []));
}

/** Writes `texts` to `room` in one go. */
export function sendAll(c: WireClient, texts: readonly string[], room = ROOM): void {
  c.socket.write(
    texts.map((t) => JSON.stringify({ _ct: "send_message", r: room, c: t })).join("\n") + "\n",
  );
}

export const range = (n: number, prefix: string, from = 0): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${from + i}`);

/** Sends `prefix0`, `prefix1`... to the room every few ms until stopped (or its socket closes). */
export function keepSending(c: WireClient, prefix: string, everyMs = 4, room = ROOM) {
  let on = true;
  let n = 0;
  const loop = (async () => {
    while (on && !c.isClosed) {
      c.send({ _ct: "send_message", r: room, c: `${prefix}${n++}` });
      await delay(everyMs);
    }
  })();
  return {
    /** messages written so far */
    get count(): number {
      return n;
    },
    async stop(): Promise<number> {
      on = false;
      await loop;
      return n;
    },
  };
}

/** Asserts-friendly view: the ids are consecutive from `from`. */
export function consecutive(ids: readonly number[], from = 1): boolean {
  return ids.every((id, i) => id === from + i);
}
