/**
 * The one place that reads argv and the environment. Every setting has a flag, an environment
 * variable and a documented default; `--help` prints the table (the README's is the same).
 */
import { parseArgs } from "node:util";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { basename, dirname, join } from "node:path";
import { DEFAULT_LIMITS, type Limits } from "./core/index.js";
import { parseWebServers } from "./http/web-servers.js";
import { addressSet } from "./middleware/per-ip-limits.js";
import { parseStoreSetting, type StoreSetting, StoreSettingError } from "./store/open-store.js";
import type { RetentionPolicy } from "./core/index.js";
import type { AuthMode } from "./core/session-auth.js";
import { hasJwtKeys, type JwtKeySettings } from "./auth/load-jwt-verifier.js";
import { DEFAULT_CLOCK_TOLERANCE_MS, MIN_SECRET_BYTES } from "./auth/jwt-limits.js";
import { validTopicPrefix } from "./bridge/mqtt-topics.js";

export interface Config {
  host: string;
  /** line-delimited TCP (the original protocol); null when off */
  tcpPort: number | null;
  /** length-prefixed TCP; null when off */
  lpPort: number | null;
  /** HTTP: WebSocket on /ws, the web client, health and metrics; null when off */
  httpPort: number | null;
  /** WebSocket ping interval, ms; a peer that has not answered the previous ping is cut. 0 = off */
  wsHeartbeatMs: number;
  /** permessage-deflate on WebSocket (off by default: it costs ~300 KiB of zlib state per peer) */
  wsDeflate: boolean;
  /** folder of the built web client (index.html, app.js, ...) */
  webRoot: string;
  /**
   * WebSocket URLs the web client connects to, in turn (a cluster's nodes); its page's CSP then
   * allows only them. Empty: the page's own server at /ws
   */
  webServers: readonly string[];
  /** rooms file or folder */
  roomsPath: string;
  /** where room history is kept (`--store`) */
  store: StoreSetting;
  /**
   * `memory` (one node, the default) or a Redis URL: this server is then a node of a cluster
   * sharing rooms over Redis, and its store must be shared too (PostgreSQL)
   */
  bus: string;
  /** this node's id in a cluster (default: random at each start) */
  nodeId: string | undefined;
  /** worker processes sharing the ports (0: this process serves alone) */
  workers: number;
  /** how much history each room keeps */
  retention: RetentionPolicy;
  logLevel: string;
  limits: Limits;
  // operations: drain and the admin API
  /** a drain ends the sessions one by one across this window, ms */
  drainWindowMs: number;
  /** a drain cuts the sessions still open this long after it began, then exits, ms */
  drainTimeoutMs: number;
  /** bearer token of the admin HTTP API; null: the API is off */
  adminToken: string | null;
  /**
   * Token (JWT) authentication of chat connections: `mode` off (the default: no change for any
   * client), optional or required; the keys also serve other entry points that take tokens
   */
  auth: JwtKeySettings & { mode: "off" | AuthMode };
  /**
   * TLS on the line TCP, length-prefixed and HTTP ports (HTTPS and WSS): the certificate chain
   * and key files (PEM), re-read on SIGHUP; null (the default) for plain listeners
   */
  tls: { certPath: string; keyPath: string } | null;
  /** a TLS handshake not done this long after connecting is cut, ms */
  tlsHandshakeTimeoutMs: number;
  /** the MQTT bridge (off by default) */
  mqtt: MqttSettings;
  /** the UDP endpoint (off by default) */
  udp: UdpSettings;
}

export interface MqttSettings {
  /** broker URL (mqtt://, mqtts://, ws://, wss://); null: the bridge is off */
  url: string | null;
  /** topic prefix: PREFIX/rooms/ROOM/{messages,presence,in} */
  prefix: string;
  /** post device messages from PREFIX/rooms/ROOM/in into ROOM */
  ingest: boolean;
  /** publications kept while the broker is away; past it the oldest is dropped */
  queueMax: number;
}

export interface UdpSettings {
  /** null: off */
  port: number | null;
  /** larger datagrams are dropped, bytes */
  maxBytes: number;
  /** datagrams/s per source address, and burst */
  ratePerIp: number;
  burstPerIp: number;
  /** datagrams/s over all sources (burst twice that); 0 = no global cap */
  globalRate: number;
}

/** The bundled rooms: the original server's 24, in its own file name. */
export const DEFAULT_ROOMS_PATH = join(packageRoot(), "resources", "chat_rooms_metadatas.json");

/** Where `npm run build` puts the web client bundle. */
export const DEFAULT_WEB_ROOT = join(packageRoot(), "dist", "web");

/** The package folder, whether this runs from src/ (tsx) or from dist/src/ (built). */
function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return basename(dirname(here)) === "dist" ? join(here, "..", "..") : join(here, "..");
}

type Kind = "string" | "port" | "count" | "level" | "switch" | "list" | "store";

interface Setting {
  flag: string;
  env: string;
  kind: Kind;
  doc: string;
  get(c: Config): Value;
  set(c: Config, v: Value): void;
}

type Value = string | number | boolean | null | readonly string[] | StoreSetting;

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

type CountLimit = { [K in keyof Limits]: Limits[K] extends number ? K : never }[keyof Limits];

function limit(flag: string, key: CountLimit, doc: string): Setting {
  return {
    flag,
    env: envName(flag),
    kind: "count",
    doc,
    get: (c) => c.limits[key],
    set: (c, v) => {
      c.limits[key] = v as number;
    },
  };
}

function envName(flag: string): string {
  return "PARLEY_" + flag.toUpperCase().replace(/-/g, "_");
}

export const SETTINGS: readonly Setting[] = [
  {
    flag: "host",
    env: "PARLEY_HOST",
    kind: "string",
    doc: "address to listen on",
    get: (c) => c.host,
    set: (c, v) => void (c.host = v as string),
  },
  {
    flag: "port",
    env: "PARLEY_PORT",
    kind: "port",
    doc: "line-delimited TCP port (original protocol); `off` disables",
    get: (c) => c.tcpPort,
    set: (c, v) => void (c.tcpPort = v as number | null),
  },
  {
    flag: "lp-port",
    env: "PARLEY_LP_PORT",
    kind: "port",
    doc: "length-prefixed TCP port; `off` disables",
    get: (c) => c.lpPort,
    set: (c, v) => void (c.lpPort = v as number | null),
  },
  {
    flag: "http-port",
    env: "PARLEY_HTTP_PORT",
    kind: "port",
    doc: "HTTP port: WebSocket on /ws, web client on /, /healthz, /readyz, /metrics; `off` disables",
    get: (c) => c.httpPort,
    set: (c, v) => void (c.httpPort = v as number | null),
  },
  {
    flag: "ws-heartbeat-ms",
    env: "PARLEY_WS_HEARTBEAT_MS",
    kind: "count",
    doc: "WebSocket ping interval, ms; no pong by the next ping: cut; 0 = off",
    get: (c) => c.wsHeartbeatMs,
    set: (c, v) => void (c.wsHeartbeatMs = v as number),
  },
  {
    flag: "ws-deflate",
    env: "PARLEY_WS_DEFLATE",
    kind: "switch",
    doc: "enable WebSocket permessage-deflate (env: true/false)",
    get: (c) => c.wsDeflate,
    set: (c, v) => void (c.wsDeflate = v as boolean),
  },
  {
    flag: "web-servers",
    env: "PARLEY_WEB_SERVERS",
    kind: "string",
    doc: "for the web client: comma-separated ws:// or wss:// URLs of a cluster's nodes (e.g. wss://a.example/ws,wss://b.example/ws), tried in turn, its own server first when listed; the page may connect to these only; `none`: the page's own server at /ws",
    get: (c) => c.webServers,
    set: (c, v) => {
      try {
        c.webServers = parseWebServers(v as string);
      } catch (err) {
        throw new ConfigError(`--web-servers: ${(err as Error).message}`);
      }
    },
  },
  {
    flag: "rooms",
    env: "PARLEY_ROOMS",
    kind: "string",
    doc: "rooms file, or folder of *.json rooms files",
    get: (c) => c.roomsPath,
    set: (c, v) => void (c.roomsPath = v as string),
  },
  {
    flag: "store",
    env: "PARLEY_STORE",
    kind: "store",
    doc: "room history: sqlite:PATH[?sync=full] (embedded), postgres://USER:PASS@HOST:PORT/DB (shared), memory, or off",
    get: (c) => c.store,
    set: (c, v) => void (c.store = v as StoreSetting),
  },
  {
    flag: "bus",
    env: "PARLEY_BUS",
    kind: "string",
    doc: "`memory` (one node) or redis://HOST:PORT: a node of a cluster sharing every room over Redis (needs a postgres:// store)",
    get: (c) => c.bus,
    set: (c, v) => void (c.bus = v as string),
  },
  {
    flag: "node-id",
    env: "PARLEY_NODE_ID",
    kind: "string",
    doc: "this node's id in a cluster (letters, digits, _ and -); default: random at each start",
    get: (c) => c.nodeId ?? "random",
    set: (c, v) => void (c.nodeId = v as string),
  },
  {
    flag: "workers",
    env: "PARLEY_WORKERS",
    kind: "string",
    doc: "worker processes sharing every port and room (each a node of the cluster: needs --bus redis:// and a postgres:// store); `auto` = one per core; 0 = this process alone",
    get: (c) => c.workers,
    set: (c, v) => {
      const raw = v as string;
      const n = raw === "auto" ? availableParallelism() : Number(raw);
      if (!Number.isSafeInteger(n) || n < 0 || n > 256) {
        throw new ConfigError(`--workers: "${raw}" is not a number of workers (0-256) or auto`);
      }
      c.workers = n;
    },
  },
  {
    flag: "retention-messages",
    env: "PARLEY_RETENTION_MESSAGES",
    kind: "count",
    doc: "messages of history kept per room (the newest); 0 = no bound",
    get: (c) => c.retention.maxMessages,
    set: (c, v) => void (c.retention.maxMessages = v as number),
  },
  {
    flag: "retention-age-ms",
    env: "PARLEY_RETENTION_AGE_MS",
    kind: "count",
    doc: "history older than this is dropped, ms (default 30 days); 0 = no bound",
    get: (c) => c.retention.maxAgeMs,
    set: (c, v) => void (c.retention.maxAgeMs = v as number),
  },
  {
    flag: "retention-every-ms",
    env: "PARLEY_RETENTION_EVERY_MS",
    kind: "count",
    doc: "how often retention trims each room (in steps of at most 1,000 messages), ms",
    get: (c) => c.retention.everyMs ?? 10_000,
    set: (c, v) => void (c.retention.everyMs = Math.max(10, v as number)),
  },
  {
    flag: "log-level",
    env: "PARLEY_LOG_LEVEL",
    kind: "level",
    doc: `log level: ${LEVELS.join(", ")}`,
    get: (c) => c.logLevel,
    set: (c, v) => void (c.logLevel = v as string),
  },
  // ---- token authentication (src/auth/)
  {
    flag: "auth",
    env: "PARLEY_AUTH",
    kind: "string",
    doc: "token authentication of chat connections: off (no change for any client), optional (no token: anonymous; a token given must be valid) or required (nothing but a valid token's hello, or a WebSocket upgrade with one); needs --jwt-secret, --jwt-secret-file or --jwks",
    get: (c) => c.auth.mode,
    set: (c, v) => {
      if (v !== "off" && v !== "optional" && v !== "required") {
        throw new ConfigError(`--auth: "${v as string}" is not off, optional or required`);
      }
      c.auth.mode = v;
    },
  },
  {
    flag: "jwt-secret",
    env: "PARLEY_JWT_SECRET",
    kind: "string",
    doc: `HS256 shared secret, at least ${MIN_SECRET_BYTES} bytes (prefer the env variable or --jwt-secret-file: other local users can read a command line)`,
    get: (c) => (c.auth.secret === undefined ? "none" : "(set)"),
    set: (c, v) => void (c.auth.secret = v as string),
  },
  {
    flag: "jwt-secret-file",
    env: "PARLEY_JWT_SECRET_FILE",
    kind: "string",
    doc: "file holding the HS256 shared secret (a trailing newline is not part of it)",
    get: (c) => c.auth.secretFile ?? "none",
    set: (c, v) => void (c.auth.secretFile = v as string),
  },
  {
    flag: "jwks",
    env: "PARLEY_JWKS",
    kind: "string",
    doc: 'JSON Web Key Set file ({"keys": [...]}): public keys for RS256 and ES256 tokens, chosen by the token\'s kid',
    get: (c) => c.auth.jwksFile ?? "none",
    set: (c, v) => void (c.auth.jwksFile = v as string),
  },
  {
    flag: "jwt-issuer",
    env: "PARLEY_JWT_ISSUER",
    kind: "string",
    doc: "the iss claim tokens must carry; none: not checked",
    get: (c) => c.auth.issuer ?? "none",
    set: (c, v) => void (c.auth.issuer = v as string),
  },
  {
    flag: "jwt-audience",
    env: "PARLEY_JWT_AUDIENCE",
    kind: "string",
    doc: "the aud claim tokens must be meant for; none: not checked",
    get: (c) => c.auth.audience ?? "none",
    set: (c, v) => void (c.auth.audience = v as string),
  },
  {
    flag: "jwt-clock-tolerance-ms",
    env: "PARLEY_JWT_CLOCK_TOLERANCE_MS",
    kind: "count",
    doc: "clock skew allowed on a token's exp and nbf, ms; a session ends this long after its token's exp",
    get: (c) => c.auth.clockToleranceMs,
    set: (c, v) => void (c.auth.clockToleranceMs = v as number),
  },
  {
    flag: "tls-cert",
    env: "PARLEY_TLS_CERT",
    kind: "string",
    doc: "TLS certificate file (PEM, the server's certificate then any intermediates): the TCP, length-prefixed and HTTP ports then speak TLS only (HTTPS, WSS); with --tls-key; re-read on SIGHUP",
    get: (c) => c.tls?.certPath ?? null,
    set: (c, v) => void (c.tls = { certPath: v as string, keyPath: c.tls?.keyPath ?? "" }),
  },
  {
    flag: "tls-key",
    env: "PARLEY_TLS_KEY",
    kind: "string",
    doc: "TLS private key file (PEM) of --tls-cert; re-read on SIGHUP",
    get: (c) => c.tls?.keyPath ?? null,
    set: (c, v) => void (c.tls = { certPath: c.tls?.certPath ?? "", keyPath: v as string }),
  },
  {
    flag: "tls-handshake-timeout-ms",
    env: "PARLEY_TLS_HANDSHAKE_TIMEOUT_MS",
    kind: "count",
    doc: "a TLS handshake not done this long after connecting is cut (counted in /metrics), ms",
    get: (c) => c.tlsHandshakeTimeoutMs,
    set: (c, v) => void (c.tlsHandshakeTimeoutMs = v as number),
  },
  {
    flag: "mqtt",
    env: "PARLEY_MQTT_URL",
    kind: "string",
    doc: "MQTT bridge: broker URL (mqtt://HOST:1883, mqtts://, ws://, wss://); room messages and presence are published under --mqtt-prefix; the server starts and keeps retrying while the broker is away; `off` disables",
    get: (c) => c.mqtt.url,
    set: (c, v) => {
      const raw = v as string;
      if (raw === "off") return void (c.mqtt.url = null);
      if (!/^(mqtts?|wss?|tcp|ssl):\/\/./.test(raw)) {
        throw new ConfigError(`--mqtt: "${raw}" is not an mqtt://, mqtts://, ws:// or wss:// URL`);
      }
      c.mqtt.url = raw;
    },
  },
  {
    flag: "mqtt-prefix",
    env: "PARLEY_MQTT_PREFIX",
    kind: "string",
    doc: "MQTT topic prefix: PREFIX/rooms/ROOM/messages, .../presence, .../in",
    get: (c) => c.mqtt.prefix,
    set: (c, v) => {
      if (!validTopicPrefix(v as string)) {
        throw new ConfigError(
          "--mqtt-prefix: topic levels without +, # or a leading $, and no leading, trailing or double /",
        );
      }
      c.mqtt.prefix = v as string;
    },
  },
  {
    flag: "mqtt-ingest",
    env: "PARLEY_MQTT_INGEST",
    kind: "switch",
    doc: "post device messages from PREFIX/rooms/ROOM/in into ROOM (a shared subscription: one node of a cluster takes each); env: true/false",
    get: (c) => c.mqtt.ingest,
    set: (c, v) => void (c.mqtt.ingest = v as boolean),
  },
  {
    flag: "mqtt-queue",
    env: "PARLEY_MQTT_QUEUE",
    kind: "count",
    doc: "MQTT publications kept while the broker is away; past it the oldest is dropped (counted)",
    get: (c) => c.mqtt.queueMax,
    set: (c, v) => void (c.mqtt.queueMax = v as number),
  },
  {
    flag: "udp-port",
    env: "PARLEY_UDP_PORT",
    kind: "port",
    doc: "UDP endpoint: ping, and send_message with a token (needs --jwt-secret, --jwt-secret-file or --jwks, whatever --auth says); `off` disables",
    get: (c) => c.udp.port,
    set: (c, v) => void (c.udp.port = v as number | null),
  },
  {
    flag: "udp-max-bytes",
    env: "PARLEY_UDP_MAX_BYTES",
    kind: "count",
    doc: "largest datagram accepted, bytes; larger ones are dropped",
    get: (c) => c.udp.maxBytes,
    set: (c, v) => void (c.udp.maxBytes = v as number),
  },
  {
    flag: "udp-rate-per-ip",
    env: "PARLEY_UDP_RATE_PER_IP",
    kind: "count",
    doc: "datagrams/s per source address (token bucket rate); more are dropped",
    get: (c) => c.udp.ratePerIp,
    set: (c, v) => void (c.udp.ratePerIp = v as number),
  },
  {
    flag: "udp-burst-per-ip",
    env: "PARLEY_UDP_BURST_PER_IP",
    kind: "count",
    doc: "datagrams one source address may send at once (bucket size)",
    get: (c) => c.udp.burstPerIp,
    set: (c, v) => void (c.udp.burstPerIp = v as number),
  },
  {
    flag: "udp-global-rate",
    env: "PARLEY_UDP_GLOBAL_RATE",
    kind: "count",
    doc: "datagrams/s over all sources (burst twice that); more are dropped; 0 = no global cap",
    get: (c) => c.udp.globalRate,
    set: (c, v) => void (c.udp.globalRate = v as number),
  },
  limit(
    "max-connections",
    "maxConnections",
    "connections at once (all transports); more are refused",
  ),
  limit(
    "max-connections-per-ip",
    "maxConnectionsPerIp",
    "connections at once from one IP (exempt addresses excepted); 0 = no limit",
  ),
  limit(
    "connect-rate-per-ip",
    "connectRatePerIp",
    "new connections per second from one IP (exempt addresses excepted); 0 = no limit",
  ),
  limit(
    "connect-burst-per-ip",
    "connectBurstPerIp",
    "new connections one IP may open at once before --connect-rate-per-ip applies",
  ),
  {
    flag: "per-ip-exempt",
    env: "PARLEY_PER_IP_EXEMPT",
    kind: "list",
    doc: "comma-separated CIDR blocks or addresses the per-IP limits skip; `none` for none",
    get: (c) => c.limits.perIpExempt,
    set: (c, v) => void (c.limits.perIpExempt = v as readonly string[]),
  },
  limit(
    "max-line-bytes",
    "maxLineBytes",
    "longest line or frame, bytes; longer: error, then close",
  ),
  limit(
    "frame-timeout-ms",
    "frameTimeoutMs",
    "a line or frame started must be finished within this, ms, else FRAME_TIMEOUT; 0 = never",
  ),
  limit(
    "first-command-timeout-ms",
    "firstCommandTimeoutMs",
    "close a connection that sent no command this long after connecting, ms; 0 = never",
  ),
  limit(
    "idle-timeout-ms",
    "idleTimeoutMs",
    "close a connection in no room that sent nothing this long, ms (room members are never cut for quiet); 0 = never",
  ),
  limit(
    "keepalive-ms",
    "keepAliveMs",
    "TCP keepalive: probe a silent peer after this long, cut it if 10 probes 1 s apart fail, ms; 0 = off",
  ),
  limit("max-rooms", "maxRoomsPerSession", "rooms one session may be in at once"),
  limit("max-message-chars", "maxMessageChars", "longest message text, characters"),
  limit("max-name-chars", "maxNameChars", "longest display name, characters"),
  limit("rate", "ratePerSec", "sustained commands/s per session (token bucket rate)"),
  limit("rate-burst", "rateBurst", "commands a session may send at once (bucket size)"),
  limit(
    "flood-disconnect-ms",
    "floodDisconnectMs",
    "held back by the rate this long without a break: disconnect, ms; 0 = never",
  ),
  limit(
    "max-outbound-bytes",
    "maxOutboundBytes",
    "high-water mark: above this many bytes queued for a reader, senders to it are held back",
  ),
  limit(
    "write-deadline-ms",
    "writeDeadlineMs",
    "a reader above the high-water mark this long without a break is cut (SLOW_CONSUMER), ms",
  ),
  limit(
    "max-outbound-hard-bytes",
    "maxOutboundHardBytes",
    "a reader with more than this many bytes queued is cut at once (SLOW_CONSUMER)",
  ),
  limit(
    "history-page-max",
    "historyPageMax",
    "largest history page and join backlog a client may ask for, messages",
  ),
  limit(
    "shutdown-grace-ms",
    "shutdownGraceMs",
    "on SIGINT/SIGTERM, time to flush before cutting connections, ms",
  ),
  // operations: drain and the admin API
  {
    flag: "drain-window-ms",
    env: "PARLEY_DRAIN_WINDOW_MS",
    kind: "count",
    doc: "a drain (SIGUSR2 or POST /admin/drain) tells and closes the sessions one by one across this window, ms; 0 = all at once",
    get: (c) => c.drainWindowMs,
    set: (c, v) => void (c.drainWindowMs = v as number),
  },
  {
    flag: "drain-timeout-ms",
    env: "PARLEY_DRAIN_TIMEOUT_MS",
    kind: "count",
    doc: "a drain cuts the sessions still open this long after it began and exits, ms",
    get: (c) => c.drainTimeoutMs,
    set: (c, v) => void (c.drainTimeoutMs = v as number),
  },
  {
    flag: "admin-token",
    env: "PARLEY_ADMIN_TOKEN",
    kind: "string",
    doc: "enables the admin HTTP API (/admin/...) for requests with `Authorization: Bearer TOKEN` (at least 16 characters; prefer the environment variable: a flag shows in ps)",
    get: (c) => c.adminToken,
    set: (c, v) => void (c.adminToken = v as string),
  },
];

export function defaultConfig(): Config {
  return {
    host: "0.0.0.0",
    tcpPort: 8080,
    lpPort: 8082,
    httpPort: 8081,
    wsHeartbeatMs: 30_000,
    wsDeflate: false,
    webRoot: DEFAULT_WEB_ROOT,
    webServers: [],
    roomsPath: DEFAULT_ROOMS_PATH,
    store: parseStoreSetting("sqlite:data/parley.db"),
    bus: "memory",
    nodeId: undefined,
    workers: 0,
    // 10,000 messages per room (a few MB each) for 30 days: a chat's working memory, not an archive
    retention: { maxMessages: 10_000, maxAgeMs: 30 * 24 * 60 * 60 * 1000, everyMs: 10_000 },
    logLevel: "info",
    limits: { ...DEFAULT_LIMITS },
    drainWindowMs: 30_000,
    drainTimeoutMs: 60_000,
    adminToken: null,
    auth: { mode: "off", clockToleranceMs: DEFAULT_CLOCK_TOLERANCE_MS },
    tls: null,
    tlsHandshakeTimeoutMs: 10_000,
    mqtt: { url: null, prefix: "parley", ingest: false, queueMax: 10_000 },
    udp: { port: null, maxBytes: 1_200, ratePerIp: 20, burstPerIp: 40, globalRate: 1_000 },
  };
}

/** A setting that cannot be used; main.ts prints it and exits 2. */
export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
}

function parseValue(s: Setting, raw: string, from: string): Value {
  switch (s.kind) {
    case "store":
      try {
        return parseStoreSetting(raw);
      } catch (err) {
        if (err instanceof StoreSettingError) throw new ConfigError(`${from}: ${err.message}`);
        throw err;
      }
    case "list": {
      if (raw.trim() === "none") return [];
      const items = raw
        .split(",")
        .map((x) => x.trim())
        .filter((x) => x !== "");
      try {
        addressSet(items);
      } catch (err) {
        throw new ConfigError(`${from}: ${(err as Error).message}`);
      }
      return items;
    }
    case "switch":
      if (["1", "true", "on", "yes"].includes(raw)) return true;
      if (["0", "false", "off", "no", ""].includes(raw)) return false;
      throw new ConfigError(`${from}: "${raw}" is not true or false`);
    case "string":
      if (raw === "") throw new ConfigError(`${from}: must not be empty`);
      return raw;
    case "level":
      if (!LEVELS.includes(raw))
        throw new ConfigError(`${from}: must be one of ${LEVELS.join(", ")}`);
      return raw;
    case "port": {
      if (raw === "off") return null;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0 || n > 65535) {
        throw new ConfigError(`${from}: "${raw}" is not a port (0-65535, or off)`);
      }
      return n;
    }
    case "count": {
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isSafeInteger(n) || n < 0) {
        throw new ConfigError(`${from}: "${raw}" is not a whole number >= 0`);
      }
      return n;
    }
  }
}

/** Builds the config from argv (without node and script) and env; throws ConfigError. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config | "help" {
  const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const s of SETTINGS) options[s.flag] = { type: s.kind === "switch" ? "boolean" : "string" };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (values.help === true) return "help";
  const config = defaultConfig();
  for (const s of SETTINGS) {
    const fromArg = values[s.flag];
    const fromEnv = env[s.env];
    if (typeof fromArg === "boolean") s.set(config, fromArg);
    else if (typeof fromArg === "string") s.set(config, parseValue(s, fromArg, `--${s.flag}`));
    else if (fromEnv !== undefined) s.set(config, parseValue(s, fromEnv, s.env));
  }
  const l = config.limits;
  if (l.maxConnections < 1) throw new ConfigError("--max-connections: must be at least 1");
  if (l.ratePerSec < 1 || l.rateBurst < 1)
    throw new ConfigError("--rate and --rate-burst must be at least 1");
  if (l.maxLineBytes < 64) throw new ConfigError("--max-line-bytes: must be at least 64");
  if (l.maxOutboundHardBytes < l.maxOutboundBytes) {
    throw new ConfigError("--max-outbound-hard-bytes: must be at least --max-outbound-bytes");
  }
  if (l.writeDeadlineMs < 1) throw new ConfigError("--write-deadline-ms: must be at least 1");
  if (l.connectRatePerIp > 0 && l.connectBurstPerIp < 1) {
    throw new ConfigError("--connect-burst-per-ip: must be at least 1");
  }
  if (config.bus !== "memory") {
    if (!/^rediss?:\/\/./.test(config.bus)) {
      throw new ConfigError(`--bus: "${config.bus}" is not memory or a redis:// URL`);
    }
    if (config.store.kind !== "postgres") {
      throw new ConfigError(
        "--bus redis://... makes this server a node of a cluster, whose nodes share history: use --store postgres://...",
      );
    }
  }
  if (config.workers > 0 && config.bus === "memory") {
    throw new ConfigError(
      "--workers: each worker is a node of a cluster sharing rooms over Redis and history in PostgreSQL: add --bus redis://HOST:PORT and --store postgres://...",
    );
  }
  if (config.tls !== null && (config.tls.certPath === "" || config.tls.keyPath === "")) {
    throw new ConfigError("--tls-cert and --tls-key go together: give both, or neither");
  }
  if (config.tlsHandshakeTimeoutMs < 1) {
    throw new ConfigError("--tls-handshake-timeout-ms: must be at least 1");
  }
  if (config.mqtt.queueMax < 1) throw new ConfigError("--mqtt-queue: must be at least 1");
  if (config.mqtt.ingest && config.mqtt.url === null) {
    throw new ConfigError("--mqtt-ingest: needs --mqtt URL");
  }
  const u = config.udp;
  if (u.maxBytes < 64 || u.maxBytes > 65_507) {
    throw new ConfigError("--udp-max-bytes: 64 to 65507 (the largest UDP payload)");
  }
  if (u.ratePerIp < 1 || u.burstPerIp < 1) {
    throw new ConfigError("--udp-rate-per-ip and --udp-burst-per-ip must be at least 1");
  }
  if (config.nodeId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(config.nodeId)) {
    throw new ConfigError("--node-id: 1 to 64 letters, digits, _ or -");
  }
  if (config.adminToken !== null) {
    if (config.adminToken.length < 16 || /\s/.test(config.adminToken)) {
      throw new ConfigError("--admin-token: at least 16 characters, without spaces");
    }
    if (config.httpPort === null) {
      throw new ConfigError("--admin-token: the admin API is served over HTTP: set --http-port");
    }
  }
  checkAuth(config.auth);
  return config;
}

function checkAuth(a: Config["auth"]): void {
  if (a.secret !== undefined && a.secretFile !== undefined) {
    throw new ConfigError("--jwt-secret and --jwt-secret-file: give one of them, not both");
  }
  if (a.secret !== undefined && Buffer.byteLength(a.secret) < MIN_SECRET_BYTES) {
    throw new ConfigError(
      `--jwt-secret: at least ${MIN_SECRET_BYTES} bytes (e.g. openssl rand -base64 48)`,
    );
  }
  if (a.mode !== "off" && !hasJwtKeys(a)) {
    throw new ConfigError(
      `--auth ${a.mode}: no key to check tokens with: give --jwt-secret (or --jwt-secret-file) for HS256, or --jwks FILE for RS256/ES256`,
    );
  }
}

/** The settings table as printed by --help. */
export function helpText(): string {
  const d = defaultConfig();
  const rows = SETTINGS.map((s) => {
    const v = s.get(d);
    const shown =
      v === null
        ? "off"
        : s.flag === "rooms"
          ? "resources/chat_rooms_metadatas.json"
          : Array.isArray(v)
            ? v.join(",") || "none"
            : typeof v === "object"
              ? "sqlite:data/parley.db"
              : String(v);
    return `  --${s.flag.padEnd(27)} ${s.env.padEnd(32)} default ${shown}\n      ${s.doc}`;
  });
  return `Usage: parley [options]   (each option also reads the environment variable shown)\n\n${rows.join("\n")}\n`;
}
