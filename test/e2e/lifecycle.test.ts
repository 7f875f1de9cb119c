import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runServerToExit, spawnServer, WireClient, ROOT } from "../helpers/harness.js";

describe("server process lifecycle", () => {
  it("on SIGTERM stops accepting, lets members see users leave, flushes, and exits 0", async () => {
    const server = await spawnServer(["--host", "127.0.0.1", "--port", "0", "--lp-port", "off"]);
    const port = server.ports.tcp!;
    const a = await WireClient.login(port);
    const b = await WireClient.login(port);
    await b.hello();
    await a.join("general");
    await b.join("general");
    // a message sent just before the signal is still delivered
    a.send({ _ct: "send_message", r: "general", c: "last words" });
    await b.next((e) => e._et === "user_message" && e.c === "last words");
    server.proc.kill("SIGTERM");
    const code = await server.exited;
    assert.equal(code, 0, server.output());
    await Promise.all([a.closed, b.closed]);
    // whichever left first was seen leaving by the other
    const sawLeave = [a, b].some((c) =>
      c.events.some((e) => e._et === "room_participation" && e.s === "left" && e.u !== c.userId),
    );
    assert.ok(sawLeave, "a member saw the other leave");
    const bye = b.events.find((e) => e._et === "disconnect");
    assert.equal(bye?._et === "disconnect" && bye.code, "SERVER_SHUTDOWN");
    assert.ok(
      a.events.every((e) => e._et !== "disconnect"),
      "an original client gets no extension event",
    );
    assert.match(server.output(), /"shutting down"/);
    assert.match(server.output(), /"code":"SERVER_SHUTDOWN".*"msg":"connection closed"/);
  });

  it("serves the rooms file given with --rooms", async () => {
    const server = await spawnServer([
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--lp-port",
      "off",
      "--rooms",
      join(ROOT, "..", "shared", "reference", "rust-chat-server-rooms.json"),
    ]);
    const a = await WireClient.login(server.ports.tcp!);
    assert.equal(a.login.rs.length, 24);
    assert.equal(a.login.rs[0]!.n, "general");
    a.close();
    server.proc.kill("SIGINT");
    assert.equal(await server.exited, 0);
  });

  it("loads every .json file of a rooms folder, in file name order", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-rooms-"));
    writeFileSync(join(dir, "b.json"), JSON.stringify([{ name: "second", description: "2" }]));
    writeFileSync(join(dir, "a.json"), JSON.stringify([{ name: "first", description: "1" }]));
    const server = await spawnServer([
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--lp-port",
      "off",
      "--rooms",
      dir,
    ]);
    const a = await WireClient.login(server.ports.tcp!);
    assert.deepEqual(a.login.rs, [
      { n: "first", d: "1" },
      { n: "second", d: "2" },
    ]);
    a.close();
    server.proc.kill("SIGTERM");
    assert.equal(await server.exited, 0);
  });

  const dir = mkdtempSync(join(tmpdir(), "parley-bad-"));
  const bad: Array<[string, string, RegExp]> = [
    ["bad JSON", '[{"name": "x",', /invalid JSON/],
    ["a missing field", JSON.stringify([{ name: "x" }]), /missing string field "description"/],
    [
      "a duplicate name",
      JSON.stringify([
        { name: "x", description: "" },
        { name: "x", description: "" },
      ]),
      /duplicate room name "x"/,
    ],
    ["an empty list", "[]", /room list is empty/],
    ["not an array", "{}", /expected a JSON array/],
  ];
  for (const [what, content, message] of bad) {
    it(`exits non-zero naming the file and the problem for ${what}`, async () => {
      const file = join(dir, `${what.replace(/\W/g, "_")}.json`);
      writeFileSync(file, content);
      const { code, output } = await runServerToExit([
        "--port",
        "0",
        "--lp-port",
        "off",
        "--rooms",
        file,
      ]);
      assert.equal(code, 1);
      assert.ok(output.includes(file), output);
      assert.match(output, message);
    });
  }

  it("exits non-zero for a duplicate name across two files of a folder", async () => {
    const d = join(dir, "folder");
    mkdirSync(d);
    writeFileSync(join(d, "1.json"), JSON.stringify([{ name: "same", description: "" }]));
    writeFileSync(join(d, "2.json"), JSON.stringify([{ name: "same", description: "" }]));
    const { code, output } = await runServerToExit([
      "--port",
      "0",
      "--lp-port",
      "off",
      "--rooms",
      d,
    ]);
    assert.equal(code, 1);
    assert.match(output, /2\.json: duplicate room name "same" \(first in .*1\.json\)/);
  });

  it("exits non-zero when the port is taken", async () => {
    const first = await spawnServer(["--host", "127.0.0.1", "--port", "0", "--lp-port", "off"]);
    const { code, output } = await runServerToExit([
      "--host",
      "127.0.0.1",
      "--port",
      String(first.ports.tcp),
      "--lp-port",
      "off",
    ]);
    assert.equal(code, 1);
    assert.match(output, /EADDRINUSE/);
    first.proc.kill("SIGTERM");
    await first.exited;
  });

  it("exits 2 with the settings table for a bad setting", async () => {
    const { code, output } = await runServerToExit(["--rate", "fast"]);
    assert.equal(code, 2);
    assert.match(output, /--rate: "fast" is not a whole number/);
    assert.match(output, /PARLEY_MAX_CONNECTIONS/);
  });
});
