import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { App } from "../../src/app.js";
import { encodeLengthPrefixed } from "../../src/protocol/index.js";
import { LineClient, LpClient, WsClient } from "./support/chat-clients.js";
import { startTestApp } from "./support/test-app.js";

/** The value of one sample line (`name{labels} value`) of a Prometheus text exposition. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(series + " ")) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

describe("HTTP endpoints", { timeout: 20_000 }, () => {
  let app: App;
  let base: string;
  let webRoot: string;

  before(async () => {
    webRoot = await mkdtemp(join(tmpdir(), "parley-web-"));
    await writeFile(join(webRoot, "index.html"), "<!doctype html><title>test page</title>");
    await writeFile(join(webRoot, "app.js"), "export {};");
    app = await startTestApp({
      webRoot,
      limits: {
        maxConnections: 4,
        rateBurst: 20,
        maxOutboundBytes: 8192,
        maxOutboundHardBytes: 8192,
      },
    });
    base = `http://127.0.0.1:${app.ports.http}`;
  });
  after(async () => {
    await app.stop();
    await rm(webRoot, { recursive: true, force: true });
  });

  it("answers /healthz and /readyz with 200 once started", async () => {
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), "ok\n");
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(await ready.text(), "ready\nchat: accepting\nstore: ok\n");
  });

  it("serves the web client at / with a content security policy, and 404 elsewhere", async () => {
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type")!, /^text\/html/);
    assert.match(page.headers.get("content-security-policy")!, /default-src 'self'/);
    assert.match(await page.text(), /test page/);
    const js = await fetch(`${base}/app.js`);
    assert.match(js.headers.get("content-type")!, /^text\/javascript/);
    await js.text();
    for (const path of ["/nope.html", "/../package.json", "/%2e%2e/package.json", "/.env"]) {
      const r = await fetch(`${base}${path}`);
      assert.equal(r.status, 404, path);
      await r.text();
    }
    const post = await fetch(`${base}/healthz`, { method: "POST" });
    assert.equal(post.status, 405);
    await post.text();
  });

  it("exposes connections, traffic, limits hits and latency on /metrics", async () => {
    const ws = await WsClient.open(app.ports.http!);
    const line = await LineClient.open(app.ports.tcp!);
    await ws.login("metrics_ws");
    await line.waitFor("login_successful");
    await ws.join("general");
    await line.join("general");
    ws.send({ _ct: "send_message", r: "general", c: "one" });
    ws.send({ _ct: "send_message", r: "general", c: "two" });
    await line.waitFor("user_message", (e) => e.c === "two");

    // Rate limit: 25 pings in one write against a bucket of 20.
    line.send(Array(25).fill('{"_ct":"ping"}').join("\r\n"));
    await line.waitFor("slow_down");
    // Slow consumer: ten room lists (~1.9 KB each) queued in one turn pass the 8 KiB hard cap.
    const hog = await LpClient.open(app.ports.lp!);
    await hog.waitFor("login_successful");
    const listRooms = encodeLengthPrefixed('{"_ct":"list_rooms"}');
    hog.raw(Buffer.concat(Array.from({ length: 10 }, () => listRooms)));
    assert.equal((await hog.waitFor("disconnect")).code, "SLOW_CONSUMER");
    await hog.closed;
    // Refusal: with ws and line open, two more fill the limit of 4 and the next is refused.
    const extra1 = await WsClient.open(app.ports.http!);
    const extra2 = await WsClient.open(app.ports.http!);
    await extra1.waitFor("login_successful");
    await extra2.waitFor("login_successful");
    const refused = await WsClient.open(app.ports.http!);
    await refused.closed;

    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.equal(sample(text, 'parley_connections{transport="ws"}'), 3);
    assert.equal(sample(text, 'parley_connections{transport="tcp"}'), 1);
    assert.equal(sample(text, 'parley_connections{transport="tcp-lp"}'), 0);
    assert.equal(sample(text, 'parley_messages_in_total{command="send_message"}'), 2);
    assert.ok(sample(text, 'parley_messages_in_total{command="join_room"}')! >= 2);
    assert.ok(sample(text, "parley_messages_out_total")! >= 4);
    assert.ok(sample(text, "parley_bytes_out_total")! > 0);
    // the hog alone wrote ten 24-byte frames over length-prefixed TCP
    assert.ok(sample(text, 'parley_bytes_in_total{transport="tcp-lp"}')! >= 240);
    assert.ok(sample(text, 'parley_bytes_in_total{transport="ws"}')! > 0);
    assert.ok(sample(text, 'parley_bytes_in_total{transport="tcp"}')! > 0);
    assert.equal(sample(text, "parley_broadcast_duration_seconds_count"), 2);
    assert.equal(sample(text, 'parley_broadcast_duration_seconds_bucket{le="+Inf"}'), 2);
    assert.equal(sample(text, "parley_rate_limit_hits_total"), 1);
    assert.equal(sample(text, 'parley_slow_consumer_disconnects_total{reason="hard_limit"}'), 1);
    assert.equal(
      sample(text, 'parley_connections_closed_total{transport="tcp-lp",code="SLOW_CONSUMER"}'),
      1,
    );
    assert.equal(
      sample(text, 'parley_connections_refused_total{code="SERVER_FULL",reason="max_connections"}'),
      1,
    );
    assert.ok(sample(text, "nodejs_eventloop_lag_seconds")! >= 0);
    assert.match(text, /^nodejs_eventloop_lag_p99_seconds \d/m);

    for (const c of [ws, line, extra1, extra2]) c.close();
    await Promise.all([ws.closed, line.closed, extra1.closed, extra2.closed]);
  });
});
