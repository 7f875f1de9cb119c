/**
 * The well-behaved client that watches a fuzzed server: it sits in the fuzzed clients' room, and
 * after every fuzz case it must still get its own message back, every one once and in order,
 * with no error or disconnect of its own.
 */
import assert from "node:assert/strict";
import type { App } from "../../../src/app.js";
import { WsClient } from "../../e2e/support/chat-clients.js";
import { ROOM } from "./chat-input.js";
import { WAIT_MS } from "./raw-peer.js";

export class Observer {
  private readonly sent: string[] = [];

  private constructor(
    private readonly app: App,
    private readonly client: WsClient,
    readonly userId: string,
  ) {}

  static async join(app: App): Promise<Observer> {
    const client = await WsClient.open(app.ports.http!);
    const id = await client.login("observer");
    await client.join(ROOM);
    return new Observer(app, client, id);
  }

  /**
   * Waits until the fuzzed connection's session is gone (the server is back to the observer
   * alone), then sends a message and checks the observer got every one of its messages so far,
   * once each and in order.
   */
  async check(label: string): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (this.app.chat.connectionCount !== 1) {
      assert.ok(
        Date.now() < deadline,
        `${label}: ${this.app.chat.connectionCount} sessions left, expected the observer alone`,
      );
      await new Promise((r) => setTimeout(r, 5));
    }
    const text = `observer after ${label}`;
    this.sent.push(text);
    this.client.send({ _ct: "send_message", r: ROOM, c: text });
    await this.client.waitFor("user_message", (e) => e.c === text && e.u === this.userId, WAIT_MS);
    const own = this.client.events.filter((e) => e._et === "user_message" && e.u === this.userId);
    assert.deepEqual(
      own.map((e) => (e._et === "user_message" ? e.c : "")),
      this.sent,
    );
    assert.ok(
      !this.client.saw((e) => e._et === "error" || e._et === "disconnect"),
      `${label}: the observer got an error or a disconnect`,
    );
  }

  close(): void {
    this.client.close();
  }
}
