import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { createInterface } from "node:readline";

interface Listening {
  tcp: number;
  http: number;
}

describe("readiness during a real shutdown", { timeout: 20_000 }, () => {
  it("answers /readyz 503 (and /healthz 200) while SIGTERM drains, then exits 0", async () => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/main.ts",
        "--host=127.0.0.1",
        "--port=0",
        "--lp-port=off",
        "--http-port=0",
        "--shutdown-grace-ms=8000",
        "--store=memory",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      const ports = await new Promise<Listening>((resolve, reject) => {
        const lines = createInterface({ input: child.stdout });
        lines.on("line", (l) => {
          const rec = JSON.parse(l) as { msg?: string } & Partial<Listening>;
          if (rec.msg === "parley listening") resolve({ tcp: rec.tcp!, http: rec.http! });
        });
        child.once("exit", (code) => reject(new Error(`server exited early (${code})`)));
      });
      const base = `http://127.0.0.1:${ports.http}`;
      assert.equal((await fetch(`${base}/readyz`)).status, 200);

      // A client that never closes its side keeps the drain going until it hangs up.
      const sock = connect({ host: "127.0.0.1", port: ports.tcp, allowHalfOpen: true });
      let received = "";
      sock.setEncoding("utf8").on("data", (d: string) => (received += d));
      await new Promise<void>((r) => sock.once("data", () => r()));
      assert.match(received, /login_successful/);
      const serverEnded = new Promise<void>((r) => sock.once("end", r));

      child.kill("SIGTERM");
      await serverEnded; // the server closed its side: shutdown is under way

      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 503);
      assert.equal(await ready.text(), "not ready\nchat: not accepting\nstore: ok\n");
      const health = await fetch(`${base}/healthz`);
      assert.equal(health.status, 200);
      await health.text();

      sock.destroy();
      assert.equal(await exited, 0);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
