import type { Logger, MessageStore } from "../core/ports.js";
import { MemoryStore } from "./memory-store.js";
import { describeUrl } from "./postgres-url.js";

/** Where room history is kept: the parsed `--store` setting. */
export type StoreSetting =
  | { kind: "off" }
  | { kind: "memory" }
  /** `synchronous`: see SqliteStoreOptions (normal survives kill -9, full also a power loss) */
  | { kind: "sqlite"; path: string; synchronous: "normal" | "full" }
  | { kind: "postgres"; url: string };

/** `--store sqlite` without a path: relative to the working directory, folders created on first start. */
export const DEFAULT_SQLITE_PATH = "data/parley.db";

const USAGE =
  "use sqlite[:PATH][?sync=full], postgres://USER:PASSWORD@HOST:PORT/DATABASE, memory or off";

/** A `--store` value that cannot be used; the message says why and what is accepted. */
export class StoreSettingError extends Error {
  readonly code = "CONFIG_INVALID";
  constructor(message: string) {
    super(message);
    this.name = "StoreSettingError";
  }
}

/**
 * Parses `sqlite[:PATH][?sync=normal|full]`, `postgres://...` (or `postgresql://`), `memory` or
 * `off`. A SQLite path cannot contain `?`. Throws StoreSettingError; its message does not echo a
 * PostgreSQL password.
 */
export function parseStoreSetting(value: string): StoreSetting {
  const v = value.trim();
  if (v === "off") return { kind: "off" };
  if (v === "memory") return { kind: "memory" };
  if (v === "sqlite" || v.startsWith("sqlite:")) return parseSqlite(v);
  if (v.startsWith("postgres://") || v.startsWith("postgresql://")) return parsePostgres(v);
  throw new StoreSettingError(`"${v}" is not a store: ${USAGE}`);
}

/**
 * The store a setting names, not yet opened (the first call opens it); undefined for `off`. Each
 * backend's module (and its driver) is loaded only when named, so a server without PostgreSQL
 * does not carry the pg client (and one with `--store off` no SQLite either).
 */
export async function openStore(
  setting: StoreSetting,
  options: { logger?: Logger } = {},
): Promise<MessageStore | undefined> {
  switch (setting.kind) {
    case "off":
      return undefined;
    case "memory":
      return new MemoryStore();
    case "sqlite": {
      const { SqliteStore } = await import("./sqlite-store.js");
      return new SqliteStore({ path: setting.path, synchronous: setting.synchronous });
    }
    case "postgres": {
      const { PostgresStore } = await import("./postgres-store.js");
      return new PostgresStore({
        url: setting.url,
        ...(options.logger !== undefined && { logger: options.logger }),
      });
    }
    default: {
      const never: never = setting;
      throw new StoreSettingError(`unknown store ${JSON.stringify(never)}`);
    }
  }
}

function parseSqlite(v: string): StoreSetting {
  const rest = v.slice("sqlite:".length);
  const q = rest.indexOf("?");
  const path = q === -1 ? rest : rest.slice(0, q);
  if (path.startsWith("//")) {
    throw new StoreSettingError(
      `"${v}": write sqlite:PATH, e.g. sqlite:data/parley.db or sqlite:/var/lib/parley/parley.db`,
    );
  }
  let synchronous: "normal" | "full" = "normal";
  for (const [key, val] of new URLSearchParams(q === -1 ? "" : rest.slice(q + 1))) {
    if (key !== "sync") {
      throw new StoreSettingError(
        `"${v}": unknown parameter "${key}" (the only one is sync=normal|full)`,
      );
    }
    if (val !== "normal" && val !== "full") {
      throw new StoreSettingError(`"${v}": sync must be normal or full, not "${val}"`);
    }
    synchronous = val;
  }
  return { kind: "sqlite", path: path === "" ? DEFAULT_SQLITE_PATH : path, synchronous };
}

function parsePostgres(v: string): StoreSetting {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new StoreSettingError(`the PostgreSQL URL is not valid: ${USAGE}`);
  }
  if (url.hostname === "" && !url.searchParams.has("host")) {
    throw new StoreSettingError(`"${describeUrl(v)}" has no host: ${USAGE}`);
  }
  return { kind: "postgres", url: v };
}
