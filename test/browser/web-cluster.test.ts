// The web client in a real Chromium, given both nodes of a real cluster (two Parley processes,
// redis-server and PostgreSQL, all started here) as an operator lists them with --web-servers:
// its node is killed with SIGKILL while another user talks, and it goes on on the other node.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import type { App } from "../../src/app.js";
import type { Event } from "../../src/protocol/index.js";
import { delay, WireClient } from "../helpers/harness.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import { type ClusterNode, startNodes } from "../e2e/support/cluster-nodes.js";
import { startTestApp } from "../e2e/support/test-app.js";

/** Generous: a failover on a busy 2-core machine; a passing run never waits it out. */
const WAIT = { timeout: 30_000 };

let webRoot: string;
let redis: TestRedis;
let pg: TestPostgres;
let browser: Browser;
let nodes: ClusterNode[] = [];
let site: App | undefined;

before(async () => {
  webRoot = await mkdtemp(join(tmpdir(), "parley-web-"));
  // The same build as `npm run build`, into a folder of the test's own.
  execFileSync(process.execPath, ["scripts/build-web.mjs", webRoot], { stdio: "inherit" });
  [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
});
after(async () => {
  await browser?.close();
  await site?.stop();
  await Promise.all(nodes.map((n) => n.kill()));
  await Promise.allSettled([redis?.close(), pg?.stop()]);
  await rm(webRoot, { recursive: true, force: true });
});

/** The texts of the messages from `name` in the page's log, top to bottom. */
function messagesFrom(page: Page, name: string): Promise<string[]> {
  return page.evaluate<string[]>(`[...document.querySelectorAll("#messages .line.message")]
    .filter((l) => l.querySelector(".name")?.textContent === ${JSON.stringify(name)})
    .map((l) => l.querySelector(".text")?.textContent ?? "")`);
}

describe("the web client given the servers of a cluster", { timeout: 120_000 }, () => {
  it("when its node is killed (kill -9) while another user talks, goes on on the other node: every message shown once, in order, and its own still get through", async () => {
    nodes = await startNodes(2, { redis, pg });
    const [n0, n1] = nodes as [ClusterNode, ClusterNode];
    const url = (n: ClusterNode): string => `ws://127.0.0.1:${n.http}/ws`;
    // The page comes from a web server of its own (not a node of the cluster), as --web-servers
    // lists the nodes to it.
    site = await startTestApp({ webRoot, webServers: [url(n0), url(n1)] });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));

    await page.goto(`http://127.0.0.1:${site.ports.http}/`);
    await page.locator("#name-input").fill("alice");
    await page.keyboard.press("Enter");
    await page.locator("#room-name", { hasText: "#general" }).waitFor(WAIT);
    const state = page.locator("#conn-state");
    await page.locator("#conn-state", { hasText: "connected" }).waitFor(WAIT);
    assert.equal(await state.getAttribute("title"), `server: ${url(n0)}`);

    // The page may open WebSockets to the listed servers only: here, n1 by another name.
    const blocked = await page.evaluate<string>(`new Promise((resolve) => {
      document.addEventListener("securitypolicyviolation", (e) => resolve(e.blockedURI), {
        once: true,
      });
      setTimeout(() => resolve("no violation in 10 s"), 10000);
      try {
        new WebSocket("ws://localhost:${n1.http}/ws").onopen = () => resolve("opened");
      } catch (err) {
        resolve("refused: " + err);
      }
    })`);
    assert.match(blocked, /^ws:\/\/localhost:\d+\/ws$|^refused/);

    // walt is on the other node, which stays up
    const walt = await WireClient.login(n1.tcp);
    await walt.hello("walt");
    await walt.join("general");
    await page.locator("#messages .line", { hasText: "walt joined" }).waitFor(WAIT);
    const texts = Array.from(
      { length: 30 },
      (_, i) => `m${String(i + 1).padStart(2, "0")} by walt`,
    );
    for (const [i, text] of texts.entries()) {
      walt.send({ _ct: "send_message", r: "general", c: text });
      if (i === 9) {
        // alice gets them live from her node, then it dies mid-stream
        await page.locator("#messages .line", { hasText: texts[5] }).waitFor(WAIT);
        await n0.kill();
      }
      // the first few after the kill at once: they are sent while alice is away, for her
      // resume on the other node to fill in
      if (i < 9 || i > 14) await delay(50);
    }

    await page.locator("#messages .line", { hasText: texts.at(-1) }).waitFor(WAIT);
    await page.locator("#conn-state", { hasText: /^connected$/ }).waitFor(WAIT);
    assert.equal(await state.getAttribute("title"), `server: ${url(n1)}`);
    assert.deepEqual(await messagesFrom(page, "walt"), texts, "every message once, in order");

    // alice still talks, through the other node
    await page.locator("#message-input").fill("alice, now on the other node");
    await page.locator("#message-input").press("Enter");
    const heard = (e: Event): boolean =>
      e._et === "user_message" && e.c === "alice, now on the other node";
    await walt.next(heard, WAIT.timeout);
    await page
      .locator("#messages .line.message:not(.pending)", {
        hasText: "alice, now on the other node",
      })
      .waitFor(WAIT);
    assert.equal(await page.locator("#messages .pending").count(), 0);
    assert.deepEqual(errors, []);

    walt.close();
    await page.close();
    await n1.stop();
  });
});
