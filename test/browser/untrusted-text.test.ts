// The web client shows text from other people and from the rooms file as text: markup sent by a
// browser or by a raw TCP client, a room name and description carrying markup, and display names,
// in a real Chromium. One page keeps the server's Content-Security-Policy; the other bypasses it,
// so an event handler injected into that page would really run and set window.__pwned: what is
// tested there is the client's rendering, not the CSP in front of it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import type { App } from "../../src/app.js";
import type { Event } from "../../src/protocol/index.js";
import { startTestApp } from "../e2e/support/test-app.js";
import { WireClient } from "../helpers/harness.js";

const ARTIFACTS = join(import.meta.dirname, "..", "..", "artifacts");
const WAIT = { timeout: 10_000 };

/** Room names may hold anything but control characters (src/room-catalog.ts). */
const MARKUP_ROOM = {
  name: `<img src=x onerror="window.__pwned=3">`,
  description: `<script>window.__pwned=4</script><img src=x onerror="window.__pwned=5"><b>desc</b> &amp;`,
};
const ATTRIBUTE_ROOM = {
  name: `x" onmouseover="window.__pwned=6" data-x="`,
  description: `' onfocus='window.__pwned=7`,
};

const PAYLOADS = [
  "W".repeat(1500), // one unbroken word: must wrap, not widen the page
  `<img src=x onerror="window.__pwned=1">`,
  `</script><script>window.__pwned=2</script>`,
  `<b>bold</b>`,
  `&lt;escaped&gt; &amp; &#60;b&#62;`,
  `javascript:alert(1)`,
  `<a href="javascript:window.__pwned=8">click me</a>`,
  `<svg onload="window.__pwned=9"></svg><iframe srcdoc="<script>parent.__pwned=10</script>">`,
  "right-to-left override: invoice\u202Efdp.exe, isolate \u2067שלום\u2069, mark \u200F!",
  "emoji 👩‍💻 🎉 👨‍👩‍👧‍👦 🇫🇷 ✔︎",
  "terminal escapes \u001b[2J\u001b]52;c;cHduZWQ=\u0007 end",
];

/** Accepted by the server's name rules (one script, letters, digits, _ . -) yet unusual: no markup possible. */
const TCP_NAME = "__proto__";
const BOB_NAME = "בוב_2.0";

/** The only elements the web client creates after the page has loaded (chat-view.ts). */
const OWN_TAGS = new Set(["LI", "SPAN", "TIME", "BUTTON"]);

/**
 * Runs in every page before its scripts: records the tag of every element added to the document
 * once the static page is parsed (so also elements that existed only for a moment). In-page code
 * is given as text: the tests' tsconfig has no DOM types.
 */
const RECORD_CREATED_ELEMENTS = `
  window.__created = [];
  document.addEventListener("readystatechange", () => {
    if (document.readyState !== "interactive") return;
    new MutationObserver((records) => {
      for (const r of records) {
        for (const n of r.addedNodes) {
          if (!(n instanceof Element)) continue;
          window.__created.push(n.tagName);
          for (const d of n.querySelectorAll("*")) window.__created.push(d.tagName);
        }
      }
    }).observe(document.documentElement, { childList: true, subtree: true });
  });
`;

/** A page and everything it did that the test forbids. */
interface Watched {
  page: Page;
  problems: string[];
  paths: Set<string>;
}

async function watchedPage(context: BrowserContext, label: string): Promise<Watched> {
  const page = await context.newPage();
  const problems: string[] = [];
  const paths = new Set<string>();
  page.on("pageerror", (e) => problems.push(`${label}: page error: ${String(e)}`));
  page.on("console", (m) => {
    // The browser asks for /favicon.ico by itself; the server has none (404).
    if (m.type() === "error" && !m.location().url.endsWith("/favicon.ico")) {
      problems.push(`${label}: console error: ${m.text()} (${m.location().url})`);
    }
  });
  page.on("dialog", (d) => {
    problems.push(`${label}: ${d.type()} dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on("request", (r) => paths.add(new URL(r.url()).pathname));
  return { page, problems, paths };
}

/**
 * Nothing ran, popped up, failed, loaded or got built from the text: no window.__pwned, no dialog,
 * console error or page error, no request but the client's own files, and no element but the
 * client's own kinds.
 */
async function assertClean(w: Watched): Promise<void> {
  const page = w.page;
  assert.equal(await page.evaluate<unknown>("window.__pwned"), undefined, "window.__pwned set");
  assert.deepEqual(w.problems, []);
  const created = await page.evaluate<string[]>("window.__created");
  assert.ok(created.length > 0, "the element recorder ran");
  const foreign = [...new Set(created)].filter((t) => !OWN_TAGS.has(t));
  assert.deepEqual(foreign, [], "elements the client never creates");
  assert.equal(await page.locator("img, svg, iframe, a, b, object, embed").count(), 0);
  assert.equal(await page.locator("script").count(), 1, "only the client's own script");
  const unexpected = [...w.paths].filter(
    (p) => !["/", "/app.js", "/style.css", "/app.js.map", "/favicon.ico"].includes(p),
  );
  assert.deepEqual(unexpected, [], "requests the client never makes");
}

async function signIn(page: Page, base: string, name: string): Promise<void> {
  await page.goto(base);
  await page.locator("#name-input").fill(name);
  await page.keyboard.press("Enter");
  await page.locator("#app").waitFor({ state: "visible", ...WAIT });
  await page.locator("#conn-state", { hasText: "connected" }).waitFor(WAIT);
  await page.locator("#leave-button").waitFor({ state: "visible", ...WAIT }); // in the first room
}

async function say(page: Page, text: string): Promise<void> {
  await page.locator("#message-input").fill(text);
  await page.locator("#message-input").press("Enter");
  await waitFor(page, (p) => p.locator("#message-input").inputValue(), {
    ok: (v) => v === "",
    what: "the message box emptied (sent)",
  });
}

/** Polls `read` until `ok` holds (10 s at most); fails with the last value read. */
async function waitFor<T>(
  page: Page,
  read: (page: Page) => Promise<T>,
  o: { ok: (v: T) => boolean; what: string },
): Promise<T> {
  const deadline = Date.now() + WAIT.timeout;
  let v = await read(page);
  while (!o.ok(v)) {
    if (Date.now() > deadline) assert.fail(`${o.what}: last seen ${JSON.stringify(v)}`);
    await page.waitForTimeout(50);
    v = await read(page);
  }
  return v;
}

interface ShownMessage {
  name: string | null;
  text: string;
}

/** A message with a long text shortened, for readable diffs. */
function brief(m: ShownMessage): ShownMessage {
  const t = m.text;
  return { name: m.name, text: t.length > 80 ? `${t.slice(0, 20)}… (${t.length} chars)` : t };
}

/** Sender and text of each message line in the log (lines are only appended during the test). */
async function shownMessages(page: Page): Promise<ShownMessage[]> {
  const names = await page.locator("#messages .line.message .name").allTextContents();
  const texts = await page.locator("#messages .line.message .text").allTextContents();
  return texts.map((text, i) => ({ name: names[i] ?? null, text }));
}

function lineTexts(page: Page): Promise<string[]> {
  return page.locator("#messages .line .text").allTextContents();
}

async function nextEvent<T extends Event["_et"]>(
  c: WireClient,
  type: T,
  pred: (e: Extract<Event, { _et: T }>) => boolean = () => true,
): Promise<Extract<Event, { _et: T }>> {
  const e = await c.next((e) => e._et === type && pred(e as Extract<Event, { _et: T }>));
  return e as Extract<Event, { _et: T }>;
}

describe("web client with untrusted text", { timeout: 90_000 }, () => {
  let dir: string;
  let app: App;
  let browser: Browser;
  let alice: Watched;
  let bob: Watched;
  let tcp: WireClient;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "parley-untrusted-"));
    const webRoot = join(dir, "web");
    const roomsPath = join(dir, "rooms.json");
    await writeFile(
      roomsPath,
      JSON.stringify([MARKUP_ROOM, ATTRIBUTE_ROOM, { name: "lobby", description: "plain" }]),
    );
    execFileSync(process.execPath, ["scripts/build-web.mjs", webRoot], { stdio: "inherit" });
    app = await startTestApp({ webRoot, roomsPath });
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
    const viewport = { width: 1280, height: 800 };
    const withCsp = await browser.newContext({ viewport });
    const withoutCsp = await browser.newContext({ viewport, bypassCSP: true });
    for (const c of [withCsp, withoutCsp]) {
      await c.addInitScript({ content: RECORD_CREATED_ELEMENTS });
    }
    alice = await watchedPage(withCsp, "alice");
    bob = await watchedPage(withoutCsp, "bob");
    await mkdir(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    tcp?.close();
    await browser?.close();
    await app?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses display names with markup from a raw TCP client and from the web client, and shows accepted unusual names as text", async () => {
    const base = `http://127.0.0.1:${app.ports.http}/`;

    tcp = await WireClient.login(app.ports.tcp!);
    tcp.send({ _ct: "hello", v: 1, n: `<img src=x onerror="window.__pwned=11">` });
    assert.equal((await nextEvent(tcp, "welcome")).n, tcp.userId, "name unchanged");
    assert.equal((await nextEvent(tcp, "error")).code, "NAME_INVALID");
    for (const bad of ["<b>mallory</b>", "a&b", `x"y`, "x'y", "javascript:x", "a\u202Eb"]) {
      tcp.send({ _ct: "set_name", n: bad });
      const e = await nextEvent(tcp, "error");
      assert.equal(e.code, "NAME_INVALID", bad);
    }
    tcp.send({ _ct: "set_name", n: TCP_NAME });
    assert.equal((await nextEvent(tcp, "user_renamed")).n, TCP_NAME);

    // The sign-in form refuses markup before anything is sent.
    let sockets = 0;
    const countSocket = (): void => void sockets++;
    bob.page.on("websocket", countSocket);
    await bob.page.goto(base);
    await bob.page.locator("#name-input").fill("<b>bob</b>");
    await bob.page.keyboard.press("Enter");
    await bob.page.locator("#login-error", { hasText: "letters, digits" }).waitFor(WAIT);
    assert.equal(await bob.page.locator("#app").isVisible(), false);
    assert.equal(sockets, 0, "no connection opened");
    bob.page.off("websocket", countSocket);

    await signIn(alice.page, base, "alice");
    await signIn(bob.page, base, BOB_NAME);
    assert.equal(await bob.page.locator("#me-name").textContent(), BOB_NAME);
    tcp.send({ _ct: "join_room", r: MARKUP_ROOM.name });
    await nextEvent(tcp, "user_joined_room");
    for (const w of [alice, bob]) {
      await waitFor(w.page, (p) => p.locator("#member-list .member-name").allTextContents(), {
        ok: (names) => [...names].sort().join() === ["alice", BOB_NAME, TCP_NAME].sort().join(),
        what: "members",
      });
    }

    // A /nick with markup is refused by the server; the name stays, the refusal shows as text.
    await say(alice.page, `/nick <img src=x onerror="window.__pwned=12">`);
    await waitFor(alice.page, lineTexts, {
      ok: (t) => t.some((s) => s.includes("NAME_INVALID")),
      what: "the refusal",
    });
    assert.equal(await alice.page.locator("#me-name").textContent(), "alice");

    for (const w of [alice, bob]) await assertClean(w);
  });

  it("shows a room name and description with markup as text, in the header and the room list", async () => {
    for (const w of [alice, bob]) {
      const page = w.page;
      assert.equal(await page.locator("#room-name").textContent(), `#${MARKUP_ROOM.name}`);
      assert.equal(await page.locator("#room-desc").textContent(), MARKUP_ROOM.description);
      const buttons = page.locator("#room-list button.room");
      const listed = [];
      for (let i = 0; i < (await buttons.count()); i++) {
        const b = buttons.nth(i);
        listed.push({
          room: await b.getAttribute("data-room"),
          name: await b.locator(".room-name").textContent(),
          desc: await b.locator(".room-desc").textContent(),
        });
      }
      assert.deepEqual(listed, [
        { room: MARKUP_ROOM.name, name: `#${MARKUP_ROOM.name}`, desc: MARKUP_ROOM.description },
        {
          room: ATTRIBUTE_ROOM.name,
          name: `#${ATTRIBUTE_ROOM.name}`,
          desc: ATTRIBUTE_ROOM.description,
        },
        { room: "lobby", name: "#lobby", desc: "plain" },
      ]);
      assert.equal(
        await page.locator("#message-input").getAttribute("placeholder"),
        `Message #${MARKUP_ROOM.name}`,
      );
    }
    // bob opens the room whose name would close an HTML attribute, hovers it, and comes back.
    const second = bob.page.locator("#room-list button.room").nth(1);
    await second.hover();
    await second.click();
    await bob.page.locator("#room-name", { hasText: ATTRIBUTE_ROOM.name }).waitFor(WAIT);
    assert.equal(await bob.page.locator("#room-desc").textContent(), ATTRIBUTE_ROOM.description);
    await bob.page.locator("#room-list button.room").first().click();
    await bob.page.locator("#room-name", { hasText: MARKUP_ROOM.name }).waitFor(WAIT);

    for (const w of [alice, bob]) await assertClean(w);
  });

  it("shows messages with markup, a long word, bidi controls, emoji and escapes as text, from a browser and from a raw TCP client", async () => {
    for (const text of PAYLOADS) await say(alice.page, text);
    for (const text of PAYLOADS) tcp.send({ _ct: "send_message", r: MARKUP_ROOM.name, c: text });
    // The TCP client gets every message back as sent, both its own and alice's.
    for (const text of PAYLOADS) {
      await nextEvent(tcp, "user_message", (e) => e.c === text && e.n === "alice");
    }
    for (const text of PAYLOADS) {
      await nextEvent(tcp, "user_message", (e) => e.c === text && e.u === tcp.userId);
    }

    const expected = [
      ...PAYLOADS.map((text) => ({ name: "alice", text })),
      ...PAYLOADS.map((text) => ({ name: TCP_NAME, text })),
    ];
    for (const w of [alice, bob]) {
      const shown = await waitFor(w.page, shownMessages, {
        ok: (m) => m.length >= expected.length && m.every((x) => x.name !== null),
        what: "every message",
      });
      // textContent is exactly what was sent, each once from each sender, in order.
      assert.deepEqual(shown.map(brief), expected.map(brief));
      assert.ok(shown.every((m, i) => m.text === expected[i]!.text));

      // The long word wraps inside the log: neither the log nor the page scrolls sideways.
      const overflow = await w.page.evaluate<{ log: number; page: number }>(`({
        log: document.getElementById("messages").scrollWidth -
          document.getElementById("messages").clientWidth,
        page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      })`);
      assert.deepEqual(overflow, { log: 0, page: 0 });
      await assertClean(w);
    }
    await bob.page.screenshot({ path: join(ARTIFACTS, "web-untrusted-text.png") });
    await alice.page.screenshot({ path: join(ARTIFACTS, "web-untrusted-text-csp.png") });
  });
});
