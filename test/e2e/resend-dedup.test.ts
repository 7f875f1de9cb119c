// The server side of lossless reconnect, in raw bytes: a send_message whose (hello.k, cid) was
// broadcast already is not broadcast again; only its sender gets the original event back.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { once } from "node:events";
import type { App } from "../../src/app.js";
import { startParley } from "../client/support.js";

class RawClient {
  private buf = "";
  readonly events: Array<Record<string, unknown>> = [];
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buf += chunk;
      let nl;
      while ((nl = this.buf.indexOf("\n")) >= 0) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (line) this.events.push(JSON.parse(line) as Record<string, unknown>);
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(port: number): Promise<RawClient> {
    const s = connect({ host: "127.0.0.1", port });
    await once(s, "connect");
    const c = new RawClient(s);
    await c.next((e) => e._et === "login_successful");
    return c;
  }

  send(obj: object): void {
    this.socket.write(JSON.stringify(obj) + "\r\n");
  }

  /** The first event (from the start of the stream) matching `pred`, waiting up to 5 s. */
  async next(pred: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const hit = this.events.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error("timed out waiting for an event");
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  messages(): string[] {
    return this.events.filter((e) => e._et === "user_message").map((e) => e.c as string);
  }

  async close(): Promise<void> {
    this.socket.destroy();
    await once(this.socket, "close");
  }
}

describe("send_message resend deduplication", () => {
  let app: App;
  before(async () => {
    app = await startParley();
  });
  after(() => app.stop());

  async function member(k?: string): Promise<RawClient> {
    const c = await RawClient.open(app.ports.tcp!);
    c.send({ _ct: "hello", v: 1, ...(k !== undefined && { k }) });
    c.send({ _ct: "join_room", r: "rust" });
    await c.next((e) => e._et === "user_joined_room");
    return c;
  }

  it("does not broadcast a repeated (key, cid) again and re-delivers the original to the sender", async () => {
    const observer = await member();
    const first = await member("key-A");
    first.send({ _ct: "send_message", r: "rust", c: "once", cid: "7" });
    const original = await first.next((e) => e._et === "user_message" && e.cid === "7");
    await first.close();

    const again = await member("key-A"); // the same client object, reconnected
    again.send({ _ct: "send_message", r: "rust", c: "once", cid: "7" });
    const redelivered = await again.next((e) => e._et === "user_message" && e.cid === "7");
    assert.deepEqual(redelivered, original);

    again.send({ _ct: "send_message", r: "rust", c: "barrier", cid: "8" });
    await observer.next((e) => e.c === "barrier");
    assert.deepEqual(observer.messages(), ["once", "barrier"]);
    await Promise.all([observer.close(), again.close()]);
  });

  it("broadcasts the same cid from another key, or without a key", async () => {
    const observer = await member();
    const a = await member("key-B");
    const b = await member("key-C");
    const anonymous = await member();
    a.send({ _ct: "send_message", r: "rust", c: "from a", cid: "1" });
    await observer.next((e) => e.c === "from a");
    b.send({ _ct: "send_message", r: "rust", c: "from b", cid: "1" });
    await observer.next((e) => e.c === "from b");
    anonymous.send({ _ct: "send_message", r: "rust", c: "anon", cid: "1" });
    anonymous.send({ _ct: "send_message", r: "rust", c: "anon", cid: "1" });
    anonymous.send({ _ct: "send_message", r: "rust", c: "anon end", cid: "2" });
    await observer.next((e) => e.c === "anon end");
    assert.deepEqual(observer.messages(), ["from a", "from b", "anon", "anon", "anon end"]);
    await Promise.all([observer, a, b, anonymous].map((c) => c.close()));
  });
});
