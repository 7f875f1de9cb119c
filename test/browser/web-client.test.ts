import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import type { App } from "../../src/app.js";
import { LineClient } from "../e2e/support/chat-clients.js";
import { startTestApp } from "../e2e/support/test-app.js";

const ARTIFACTS = join(import.meta.dirname, "..", "..", "artifacts");
const WAIT = { timeout: 5_000 };

/** Waits until the page's member list shows exactly `names` (in any order). */
async function members(page: Page, names: string[]): Promise<void> {
  const deadline = Date.now() + WAIT.timeout;
  let have: string[] = [];
  while (Date.now() < deadline) {
    have = await page.locator("#member-list .member-name").allTextContents();
    if (have.length === names.length && names.every((n) => have.includes(n))) return;
    await page.waitForTimeout(25);
  }
  assert.fail(`member list ${JSON.stringify(have)}, expected ${JSON.stringify(names)}`);
}

/** Waits for a line in the visible message log containing `text`. */
async function line(page: Page, text: string): Promise<void> {
  await page.locator("#messages .line", { hasText: text }).last().waitFor(WAIT);
}

async function signIn(page: Page, base: string, name: string): Promise<void> {
  await page.goto(base);
  await page.locator("#name-input").fill(name);
  await page.keyboard.press("Enter");
  await page.locator("#app").waitFor({ state: "visible", ...WAIT });
  // lands in the first room, joined
  await page.locator("#room-name", { hasText: "#general" }).waitFor(WAIT);
  await page.locator("#conn-state", { hasText: "connected" }).waitFor(WAIT);
}

/**
 * Waits until the page is connected, clicking "retry now" whenever it waits to reconnect (so
 * that no backoff delay has to pass). The page's own timer may start an attempt first: then the
 * link is gone before the click, which is fine.
 */
async function reconnected(page: Page): Promise<void> {
  const state = page.locator("#conn-state");
  const link = page.locator("#conn-state .link");
  const deadline = Date.now() + WAIT.timeout;
  while ((await state.textContent()) !== "connected") {
    if (Date.now() > deadline) assert.fail(`still "${await state.textContent()}"`);
    if (await link.isVisible()) await link.click({ timeout: 500 }).catch(() => undefined);
    await page.waitForTimeout(25);
  }
}

async function say(page: Page, text: string): Promise<void> {
  await page.locator("#message-input").fill(text);
  await page.locator("#message-input").press("Enter");
}

describe("web client in a real browser", { timeout: 120_000 }, () => {
  let webRoot: string;
  let app: App;
  let browser: Browser;

  before(async () => {
    webRoot = await mkdtemp(join(tmpdir(), "parley-web-"));
    // The same build as `npm run build`, into a folder of the test's own.
    execFileSync(process.execPath, ["scripts/build-web.mjs", webRoot], { stdio: "inherit" });
    app = await startTestApp({ webRoot });
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
    await mkdir(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
    await rm(webRoot, { recursive: true, force: true });
  });

  it("lets two browsers and a TCP client chat in one room, leave, rejoin, and reconnect without losing or repeating a message typed offline", async () => {
    const base = `http://127.0.0.1:${app.ports.http}/`;
    const desktop = await browser.newContext({ viewport: { width: 1280, height: 760 } });
    const phone = await browser.newContext({
      viewport: { width: 390, height: 780 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    const alice = await desktop.newPage();
    const bob = await phone.newPage();
    const errors: string[] = [];
    for (const p of [alice, bob]) p.on("pageerror", (e) => errors.push(String(e)));

    await signIn(alice, base, "alice");
    await signIn(bob, base, "bob");
    // A name in use is refused on the sign-in form, without reconnect attempts.
    const twin = await desktop.newPage();
    await twin.goto(base);
    await twin.locator("#name-input").fill("ALICE");
    await twin.locator("#connect-button").click();
    await twin.locator("#login-error", { hasText: "taken" }).waitFor(WAIT);
    assert.equal(await twin.locator("#app").isVisible(), false);
    await twin.close();
    const tcp = await LineClient.open(app.ports.tcp!);
    const tcpId = (await tcp.waitFor("login_successful")).u;
    await tcp.join("general");

    // Live member list on both pages, with the TCP user under its id.
    await members(alice, ["alice", "bob", tcpId]);
    await members(bob, ["alice", "bob", tcpId]);
    await line(alice, `${tcpId} joined`);

    await say(alice, "hello from alice");
    await line(bob, "hello from alice");
    const fromAlice = await tcp.waitFor("user_message", (e) => e.c === "hello from alice");
    assert.equal(fromAlice.n, "alice");
    tcp.send({ _ct: "send_message", r: "general", c: "hi from the terminal" });
    await line(alice, "hi from the terminal");
    await line(bob, "hi from the terminal");
    await say(bob, "bob on the phone here");
    await line(alice, "bob on the phone here");
    await tcp.waitFor("user_message", (e) => e.c === "bob on the phone here");

    // Leave and rejoin.
    await bob.locator("#leave-button").click();
    await line(alice, "bob left");
    await members(alice, ["alice", tcpId]);
    await tcp.waitFor("room_participation", (e) => e.s === "left" && e.n === "bob");
    await bob.locator("#join-button", { hasText: "Join #general" }).waitFor(WAIT);
    await bob.locator("#join-button").click();
    await line(alice, "bob joined");
    await members(alice, ["alice", "bob", tcpId]);
    await say(bob, "back again");
    await line(alice, "back again");
    await tcp.waitFor("user_message", (e) => e.c === "back again" && e.n === "bob");

    // Switch rooms: alice joins #rust by clicking it; #general then counts unread messages.
    await alice.locator('#room-list button[data-room="rust"]').click();
    await alice.locator("#room-name", { hasText: "#rust" }).waitFor(WAIT);
    await members(alice, ["alice"]);
    await say(bob, "while you were away");
    await alice
      .locator('#room-list button[data-room="general"] .badge', { hasText: "1" })
      .waitFor(WAIT);
    // Keyboard: Alt+Up goes back to #general, which clears its marker.
    await alice.keyboard.press("Alt+ArrowUp");
    await alice.locator("#room-name", { hasText: "#general" }).waitFor(WAIT);
    await line(alice, "while you were away");
    assert.equal(await alice.locator('#room-list button[data-room="general"] .badge').count(), 0);

    await alice.screenshot({ path: join(ARTIFACTS, "web-client.png") });
    await bob.screenshot({ path: join(ARTIFACTS, "web-client-phone.png") });
    await bob.locator("#toggle-rooms").click();
    await bob.locator("#rooms-panel").waitFor({ state: "visible", ...WAIT });
    await bob.waitForTimeout(250); // the drawer's slide-in
    await bob.screenshot({ path: join(ARTIFACTS, "web-client-phone-rooms.png") });
    await bob.keyboard.press("Escape");

    // Server restart on the same ports. While it is down alice types a message: it is shown as
    // pending, then delivered once after the restart. Her page is kept offline (browser network
    // emulation) until bob and a TCP client are back in #general, so the test knows who must
    // see it; then "retry now" brings her back without waiting out the backoff.
    const ports = { tcpPort: app.ports.tcp!, lpPort: app.ports.lp!, httpPort: app.ports.http! };
    tcp.close();
    await app.stop();
    await alice.locator("#conn-state", { hasText: /retry|reconnecting|connecting/ }).waitFor(WAIT);
    await desktop.setOffline(true);
    const offlineText = "typed while the server was down";
    await say(alice, offlineText);
    const pending = alice.locator("#messages .line.pending", { hasText: offlineText });
    await pending.waitFor(WAIT);
    assert.match(await pending.innerText(), /sending…/);
    assert.equal(await alice.locator("#message-input").inputValue(), "");
    await alice.screenshot({ path: join(ARTIFACTS, "web-client-pending.png") });

    app = await startTestApp({ webRoot, ...ports });
    assert.equal(app.ports.http, ports.httpPort);
    await reconnected(bob);
    const again = await LineClient.open(app.ports.tcp!);
    const againId = (await again.waitFor("login_successful")).u;
    again.send({ _ct: "join_room", r: "general" });
    assert.equal((await again.waitFor("user_joined_room")).us.length, 2); // bob and the TCP client
    await members(bob, ["bob", againId]);
    assert.equal(await pending.count(), 1); // still waiting in alice's outbox

    await desktop.setOffline(false);
    await reconnected(alice);
    await members(alice, ["alice", "bob", againId]);
    await line(bob, offlineText);
    await again.waitFor("user_message", (e) => e.c === offlineText && e.n === "alice");
    await alice.locator("#messages .line.pending").waitFor({ state: "detached", ...WAIT });
    // Barrier: whatever alice's page sent before this has reached everyone once it arrives.
    await say(alice, "after the restart");
    await line(bob, "after the restart");
    await again.waitFor("user_message", (e) => e.c === "after the restart");
    await line(alice, "after the restart");
    for (const page of [alice, bob]) {
      assert.equal(await page.locator("#messages .line", { hasText: offlineText }).count(), 1);
    }
    assert.equal(
      again.events.filter((e) => e._et === "user_message" && e.c === offlineText).length,
      1,
    );
    await bob.screenshot({ path: join(ARTIFACTS, "web-client-phone-after-restart.png") });
    // alice's page also rejoined #rust by itself.
    again.send({ _ct: "join_room", r: "rust" });
    assert.equal((await again.waitFor("user_joined_room", (e) => e.r === "rust")).us.length, 2);
    again.close();

    assert.deepEqual(errors, []);
    await desktop.close();
    await phone.close();
  });

  it("shows a room's history on join above a divider, loads older pages at the top of the log, and fills in what a page missed while away, across a restart (SQLite)", async () => {
    const store = {
      kind: "sqlite",
      path: join(webRoot, "history.db"),
      synchronous: "normal",
    } as const;
    let server = await startTestApp({ webRoot, store });
    const base = `http://127.0.0.1:${server.ports.http}/`;
    const texts = (p: Page): Promise<string[]> =>
      p.locator("#messages .line.message .text").allTextContents();
    const h = (from: number, to: number): string[] =>
      Array.from({ length: to - from + 1 }, (_, i) => `h${from + i}`);
    try {
      const tcp = await LineClient.open(server.ports.tcp!);
      await tcp.waitFor("login_successful");
      await tcp.join("general");
      for (let i = 0; i < 120; i++) tcp.send({ _ct: "send_message", r: "general", c: `h${i}` });
      await tcp.waitFor("user_message", (e) => e.c === "h119", 10_000);

      const away = await browser.newContext({ viewport: { width: 1280, height: 760 } });
      const early = await away.newPage();
      const errors: string[] = [];
      early.on("pageerror", (e) => errors.push(String(e)));
      await signIn(early, base, "early");
      await line(early, "h119");
      // the join's backlog (50), then the divider, then the join
      await early
        .locator("#messages .line.divider", { hasText: "earlier messages above" })
        .waitFor(WAIT);
      assert.deepEqual(await texts(early), h(70, 119));
      const order = await early.locator("#messages .line").allTextContents();
      const divider = order.findIndex((t) => t.includes("earlier messages above"));
      assert.ok(order[divider - 1]!.includes("h119") && order[divider + 1]!.includes("you joined"));
      await early.screenshot({ path: join(ARTIFACTS, "web-client-backlog.png") });

      // The server restarts on the same ports and file; the early page stays offline while
      // others talk.
      const ports = {
        tcpPort: server.ports.tcp!,
        lpPort: server.ports.lp!,
        httpPort: server.ports.http!,
      };
      tcp.close();
      await server.stop();
      await early
        .locator("#conn-state", { hasText: /retry|reconnecting|connecting/ })
        .waitFor(WAIT);
      await away.setOffline(true);
      server = await startTestApp({ webRoot, store, ...ports });
      const again = await LineClient.open(server.ports.tcp!);
      await again.waitFor("login_successful");
      await again.join("general");
      for (let i = 0; i < 5; i++) again.send({ _ct: "send_message", r: "general", c: `away${i}` });
      await again.waitFor("user_message", (e) => e.c === "away4");

      // A page signing in now sees the history from before the restart, and pages back to its start.
      const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
      const late = await context.newPage();
      late.on("pageerror", (e) => errors.push(String(e)));
      await signIn(late, base, "late");
      await line(late, "away4");
      await late
        .locator("#messages .line.divider", { hasText: "earlier messages above" })
        .waitFor(WAIT);
      assert.deepEqual(await texts(late), [
        ...h(75, 119),
        ...["away0", "away1", "away2", "away3", "away4"],
      ]);
      const toTop = "document.getElementById('messages').scrollTop = 0";
      await late.evaluate(toTop);
      await line(late, "h25");
      await late.evaluate(toTop);
      await late
        .locator("#messages .line.divider", { hasText: "start of the room's history" })
        .waitFor(WAIT);
      assert.deepEqual(await texts(late), [
        ...h(0, 119),
        "away0",
        "away1",
        "away2",
        "away3",
        "away4",
      ]);
      await late.evaluate(toTop); // nothing older to load: the start divider shows
      await late.screenshot({ path: join(ARTIFACTS, "web-client-history.png") });

      // The early page, back online, gets what it missed, after what it had, once each.
      await away.setOffline(false);
      await reconnected(early);
      await line(early, "away4");
      again.send({ _ct: "send_message", r: "general", c: "live again" });
      await line(early, "live again");
      assert.deepEqual(await texts(early), [
        ...h(70, 119),
        "away0",
        "away1",
        "away2",
        "away3",
        "away4",
        "live again",
      ]);
      again.close();
      assert.deepEqual(errors, []);
      await away.close();
      await context.close();
    } finally {
      await server.stop();
    }
  });

  it("signs in with a Unicode name in its NFKC form, and refuses a mixed-script lookalike on the form before connecting", async () => {
    const base = `http://127.0.0.1:${app.ports.http}/`;
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(base);
    await page.locator("#name-input").fill("p\u0430ypal"); // Cyrillic а
    await page.locator("#connect-button").click();
    // the client's own wording (the server's would start "invalid name:")
    await page
      .locator("#login-error", { hasText: "This name mixes scripts (Latin and Cyrillic)." })
      .waitFor(WAIT);
    assert.equal(await page.locator("#app").isVisible(), false);

    await signIn(page, base, "Ｊｏｓé"); // fullwidth: the server's name for it is "José"
    await page.locator("#member-list .member-name", { hasText: "José" }).waitFor(WAIT);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
