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

async function say(page: Page, text: string): Promise<void> {
  await page.locator("#message-input").fill(text);
  await page.locator("#message-input").press("Enter");
}

describe("web client in a real browser", { timeout: 60_000 }, () => {
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

  it("lets two browsers and a TCP client chat in one room, leave, rejoin and reconnect", async () => {
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

    // Server restart on the same port: both pages reconnect and rejoin their rooms by themselves.
    const httpPort = app.ports.http!;
    tcp.close();
    await app.stop();
    await alice.locator("#conn-state", { hasText: /retry|reconnecting|connecting/ }).waitFor(WAIT);
    app = await startTestApp({ webRoot, httpPort });
    await alice.locator("#conn-state", { hasText: /^connected$/ }).waitFor(WAIT);
    await bob.locator("#conn-state", { hasText: /^connected$/ }).waitFor(WAIT);
    await members(alice, ["alice", "bob"]);
    const again = await LineClient.open(app.ports.tcp!);
    await again.waitFor("login_successful");
    again.send({ _ct: "join_room", r: "general" });
    const joined = await again.waitFor("user_joined_room");
    assert.equal(joined.us.length, 3);
    again.send({ _ct: "join_room", r: "rust" });
    assert.equal((await again.waitFor("user_joined_room", (e) => e.r === "rust")).us.length, 2);
    await say(alice, "after the restart");
    await line(bob, "after the restart");
    again.close();

    assert.deepEqual(errors, []);
    await desktop.close();
    await phone.close();
  });
});
