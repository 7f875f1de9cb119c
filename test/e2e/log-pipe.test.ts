import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, it } from "node:test";

describe("a server whose log reader is gone", () => {
  it("still stops on SIGTERM (a log write failing with EPIPE does not hang its exit)", async () => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/main.ts",
        ...["--host", "127.0.0.1", "--port", "0", "--lp-port", "off", "--http-port", "off"],
        ...["--store", "memory"],
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const exited = once(child, "exit");
    try {
      let out = "";
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "parley listening":\n${out}`)), 30_000);
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          if (out.includes("parley listening")) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      // The reader goes away (as `| tee` does when its process group is killed): every later
      // log line fails with EPIPE, starting with the "shutting down" one.
      child.stdout.destroy();
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      clearTimeout(timer);
      assert.equal(signal, null, "it exited by itself, not by the test's SIGKILL");
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});
