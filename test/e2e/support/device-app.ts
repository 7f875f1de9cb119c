import { startApp, type App } from "../../../src/app.js";
import { type Config, defaultConfig } from "../../../src/config.js";
import { silentLogger, type TokenVerifier } from "../../../src/core/index.js";
import { loadRooms } from "../../../src/room-catalog.js";
import type { TestConfig } from "./test-app.js";

/** startTestApp's server (every port 0, memory store, logs off), with an optional token verifier. */
export async function startDeviceApp(
  overrides: TestConfig,
  tokenVerifier?: TokenVerifier,
): Promise<App> {
  const base = defaultConfig();
  base.store = { kind: "memory" };
  const config: Config = {
    ...base,
    host: "127.0.0.1",
    tcpPort: 0,
    lpPort: 0,
    httpPort: 0,
    logLevel: "silent",
    ...overrides,
    limits: { ...base.limits, shutdownGraceMs: 3_000, ...overrides.limits },
  };
  return startApp({
    config,
    rooms: loadRooms(config.roomsPath),
    logger: silentLogger,
    ...(tokenVerifier !== undefined && { tokenVerifier }),
  });
}

/** The value of one series on the app's /metrics (0 when absent), e.g. `parley_mqtt_up`. */
export async function metric(app: App, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${app.ports.http}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** Waits until `check` holds, polling every 25 ms, up to `ms` (then throws with `what`). */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
