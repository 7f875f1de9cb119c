import type { App } from "../../../src/app.js";
import { startApp } from "../../../src/app.js";
import { type Config, defaultConfig } from "../../../src/config.js";
import { silentLogger, type Limits } from "../../../src/core/index.js";
import { loadRooms } from "../../../src/room-catalog.js";

export type TestConfig = Partial<Omit<Config, "limits">> & { limits?: Partial<Limits> };

/**
 * Starts Parley on 127.0.0.1 with every transport on a free port (port 0), logs off, with the
 * rooms of `roomsPath` (default: the bundled rooms), as main.ts loads them.
 */
export async function startTestApp(overrides: TestConfig = {}): Promise<App> {
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
    limits: { ...base.limits, ...overrides.limits },
  };
  return startApp({ config, rooms: loadRooms(config.roomsPath), logger: silentLogger });
}
