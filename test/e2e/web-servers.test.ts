// The HTTP server and --web-servers: the list reaches the page in its meta tag, and the page's
// Content-Security-Policy lets it open WebSockets to those servers only.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { App } from "../../src/app.js";
import { startTestApp } from "./support/test-app.js";

const LISTED = ["ws://127.0.0.1:9081/ws", "wss://chat-b.example/parley/ws"];
const WITH_META = `<!doctype html><html><head>
<meta name="parley-servers" content="" />
<title>test page</title></head><body></body></html>`;
const WITHOUT_META = `<!doctype html><html><head lang="en"><title>bare</title></head></html>`;

describe("the web page and --web-servers", { timeout: 20_000 }, () => {
  let webRoot: string;
  const apps: App[] = [];

  before(async () => {
    webRoot = await mkdtemp(join(tmpdir(), "parley-web-"));
    await writeFile(join(webRoot, "index.html"), WITH_META);
    await writeFile(join(webRoot, "bare.html"), WITHOUT_META);
  });
  after(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await rm(webRoot, { recursive: true, force: true });
  });

  async function page(webServers: string[], path = "/"): Promise<Response> {
    const app = await startTestApp({ webRoot, webServers });
    apps.push(app);
    return fetch(`http://127.0.0.1:${app.ports.http}${path}`);
  }

  it("without servers listed, serves the page as it is, free to open WebSockets to any server", async () => {
    const r = await page([]);
    assert.equal(await r.text(), await readFile(join(webRoot, "index.html"), "utf8"));
    assert.match(r.headers.get("content-security-policy")!, /connect-src 'self' ws: wss:;/);
  });

  it("with servers listed, puts them in the page's meta tag and lets it open WebSockets to them only", async () => {
    const r = await page(LISTED);
    const html = await r.text();
    assert.match(
      html,
      /<meta name="parley-servers" content="ws:\/\/127\.0\.0\.1:9081\/ws,wss:\/\/chat-b\.example\/parley\/ws" \/>/,
    );
    assert.equal(html.match(/parley-servers/g)?.length, 1, "one meta tag, the page's own");
    assert.match(
      r.headers.get("content-security-policy")!,
      /connect-src 'self' ws:\/\/127\.0\.0\.1:9081 wss:\/\/chat-b\.example;/,
    );
  });

  it("adds the meta tag to a page that has none", async () => {
    const html = await (await page(LISTED, "/bare.html")).text();
    assert.match(html, /<head lang="en">\s*<meta name="parley-servers" content="ws:[^"]+" \/>/);
  });
});
