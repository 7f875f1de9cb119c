import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";

function bench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/run.ts", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("npm run bench -- --tls", () => {
  it("runs the seed load against Parley's line TCP over TLS, with a certificate made for the run, and tabulates it", async () => {
    const r = await bench([
      "--tls",
      "--servers",
      "parley-tls",
      "--scenarios",
      "seed",
      "--seed-duration",
      "0.5",
      "--max-others",
      "10000",
      "--attempts",
      "1",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const header = r.stdout.split("\n").find((l) => l.startsWith("metric"));
    assert.match(header ?? "", /Parley TCP\+TLS/, r.stdout);
    const cpu = r.stdout.split("\n").find((l) => l.startsWith("CPU µs per delivery, seed load"));
    assert.match(cpu ?? "", /\s\d[\d,.]*$/, r.stdout);
    const lost = r.stdout.split("\n").find((l) => l.startsWith("lost deliveries, seed load"));
    assert.match(lost ?? "", /\s0$/, r.stdout);
  });
});
