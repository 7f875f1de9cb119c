/**
 * The composition root: the only module that wires concrete pieces (transports, logger, metrics)
 * to the chat core. main.ts adds the process concerns (argv, signals, exit codes).
 */
import type { AddressInfo } from "node:net";
import type {
  ConnectionMiddleware,
  Logger,
  Metrics,
  RoomSpec,
  TokenVerifier,
} from "./core/index.js";
import { ChatServer, loggingMiddleware } from "./core/index.js";
import { perIpLimitMiddleware } from "./middleware/per-ip-limits.js";
import type { Config } from "./config.js";
import { lengthPrefixedFraming, lineFraming } from "./transports/framing.js";
import { TcpTransport } from "./transports/tcp-transport.js";
import { WebSocketTransport } from "./transports/websocket-transport.js";
import { HttpServer } from "./http/http-server.js";
import { openStore } from "./store/open-store.js";
import type { RedisBus } from "./bus/redis-bus.js";
import type { RedisDirectory } from "./bus/redis-directory.js";
import { randomId } from "./core/ids.js";
import { PrometheusMetrics } from "./metrics/prometheus-metrics.js";
import { TeeMetrics } from "./metrics/tee-metrics.js";
import { AdminApi } from "./http/admin-api.js";
import { reloadRoomsFrom, type RoomsReloadOutcome } from "./rooms-reload.js";
import { hasJwtKeys, loadJwtVerifier } from "./auth/load-jwt-verifier.js";
import { TlsListeners, type TlsReloadResult } from "./transports/tls-listeners.js";
import { loadTlsIdentity, type TlsFiles } from "./transports/tls-identity.js";
import { DeviceMetrics } from "./metrics/device-metrics.js";
import type { MqttBridge } from "./bridge/mqtt-bridge.js";
import { UdpEndpoint } from "./transports/udp-endpoint.js";

export interface AppOptions {
  config: Config;
  rooms: readonly RoomSpec[];
  logger: Logger;
  /** counted besides the Prometheus metrics served on /metrics */
  metrics?: Metrics;
  /** extra middleware, run after the built-in logging and per-IP limit (e.g. an auth hook) */
  middleware?: readonly ConnectionMiddleware[];
  /**
   * checks bearer tokens; the UDP endpoint publishes only with one, and MQTT ingest then requires
   * a token in every device message
   */
  tokenVerifier?: TokenVerifier;
}

export interface App {
  readonly chat: ChatServer;
  /** bound ports, by transport (absent when that transport is off) */
  readonly ports: { tcp?: number; lp?: number; http?: number; udp?: number };
  /** the MQTT bridge, when --mqtt is set */
  readonly mqtt: MqttBridge | undefined;
  /** what GET /metrics serves */
  readonly metrics: PrometheusMetrics;
  /**
   * Graceful shutdown, in this order: (1) stop accepting on every listener; (2) the chat server
   * ends every session, so members see users leave and extension clients get a `disconnect`;
   * (3) wait for queued output to flush and sockets to close, cutting those still open after
   * `shutdownGraceMs`; (4) close the message store (the chat server committed the last batch
   * in step 2); (5) close the HTTP server, which answered /readyz with 503 meanwhile.
   * The device integrations fit in: the UDP endpoint closes and MQTT ingest unsubscribes in
   * step 1 (no device message arrives once the chat server stops); the MQTT bridge delivers its
   * queued publications (the last leaves included) during step 3, within the same grace.
   */
  stop(): Promise<void>;
  /**
   * Re-reads the rooms file(s) and applies them (SIGHUP, POST /admin/reload); a bad file keeps the
   * rooms as they are. Reloads run one at a time. Only this node's rooms (each node of a cluster
   * reloads its own file).
   */
  reloadRooms(): Promise<RoomsReloadOutcome>;
  /**
   * Begins a drain (SIGUSR2, POST /admin/drain; idempotent): /readyz fails, new connections are
   * refused, sessions are told and closed across `--drain-window-ms`; once the last has gone, or
   * at `--drain-timeout-ms`, the app stops. `drained` resolves then.
   */
  drain(trigger: "signal" | "admin"): void;
  readonly drained: Promise<void>;
  /**
   * Re-reads the TLS certificate and key files (SIGHUP): new connections get the new pair, open
   * ones keep theirs; a pair that cannot be used is refused (the current one stays), logged and
   * counted. `TLS_OFF` when the server runs without TLS.
   */
  reloadTls(): Promise<TlsReloadResult>;
}

export async function startApp(options: AppOptions): Promise<App> {
  const { config, logger } = options;
  const l = config.limits;
  const middleware: ConnectionMiddleware[] = [loggingMiddleware(logger)];
  if (l.maxConnectionsPerIp > 0 || l.connectRatePerIp > 0) {
    middleware.push(
      perIpLimitMiddleware({
        maxConnections: l.maxConnectionsPerIp,
        connectRatePerSec: l.connectRatePerIp,
        connectBurst: l.connectBurstPerIp,
        exempt: l.perIpExempt,
      }),
    );
  }
  middleware.push(...(options.middleware ?? []));
  const prometheus = new PrometheusMetrics();
  const metrics = options.metrics ? new TeeMetrics(prometheus, options.metrics) : prometheus;
  // Token verification: for chat connections (--auth), and for any other entry point taking tokens.
  // An embedder's verifier wins over the configured JWT keys.
  const jwt = hasJwtKeys(config.auth) ? await loadJwtVerifier(config.auth) : undefined;
  const tokenVerifier = options.tokenVerifier ?? jwt;
  // Read before anything opens: unreadable or mismatched files stop the start (exit 1).
  const tls =
    config.tls === null
      ? undefined
      : await openTls(config.tls, config.tlsHandshakeTimeoutMs, prometheus, logger);
  const store = await openStore(config.store, { logger });
  // A cluster node: Redis carries room traffic (the bus) and who is where (the directory).
  let cluster: { bus: RedisBus; directory: RedisDirectory; nodeId: string } | undefined;
  if (config.bus !== "memory") {
    const nodeId = config.nodeId ?? randomId(12);
    // Loaded only for a cluster node: the Redis client is a fifth of a single node's start-up RSS.
    const [{ RedisBus }, { RedisDirectory }] = await Promise.all([
      import("./bus/redis-bus.js"),
      import("./bus/redis-directory.js"),
    ]);
    const bus = new RedisBus({ url: config.bus, logger });
    try {
      await bus.start();
    } catch (err) {
      await store?.close().catch(() => {});
      throw err;
    }
    bus.onStatus((up) => metrics.busUp(up));
    cluster = { bus, directory: new RedisDirectory({ url: config.bus, nodeId, logger }), nodeId };
  }
  const chat = new ChatServer({
    rooms: options.rooms,
    limits: config.limits,
    logger,
    middleware,
    metrics,
    store,
    retention: config.retention,
    ...(cluster !== undefined && { cluster }),
    ...(config.auth.mode !== "off" &&
      tokenVerifier !== undefined && {
        auth: { mode: config.auth.mode, verifier: tokenVerifier },
      }),
  });
  try {
    // Opens the store (creating its file or schema) and the room streams before any listener.
    await chat.start();
  } catch (err) {
    await store?.close().catch(() => {});
    await cluster?.bus.stop();
    throw new Error(
      `the message store (${store?.description ?? "off"}) could not be opened: ${(err as Error).message}`,
    );
  }

  // Device integrations (MQTT bridge, UDP endpoint), both off by default.
  const deviceMetrics =
    config.mqtt.url !== null || config.udp.port !== null
      ? new DeviceMetrics(prometheus.registry)
      : undefined;
  let mqtt: MqttBridge | undefined;
  if (config.mqtt.url !== null) {
    // loaded only when on: mqtt.js costs most of a second of start-up on a busy machine
    const { MqttBridge } = await import("./bridge/mqtt-bridge.js");
    mqtt = new MqttBridge({
      url: config.mqtt.url,
      prefix: config.mqtt.prefix,
      ingest: config.mqtt.ingest,
      queueMax: config.mqtt.queueMax,
      ...(cluster !== undefined && { clientId: `parley-${cluster.nodeId}-${randomId(6)}` }),
      events: chat.events,
      publisher: chat.external,
      maxPayloadBytes: config.limits.maxLineBytes,
      ratePerSec: config.limits.ratePerSec,
      rateBurst: config.limits.rateBurst,
      // With a key configured (whatever --auth says) every device message needs a token;
      // without one, the sender is the message's `u`.
      verifier: tokenVerifier,
      clock: chat.clock,
      logger,
      metrics: deviceMetrics!,
    });
    mqtt.start();
  }
  let udp: UdpEndpoint | undefined;

  const transports: TcpTransport[] = [];
  const ports: { tcp?: number; lp?: number; http?: number; udp?: number } = {};
  let http: HttpServer | undefined;
  let ws: WebSocketTransport | undefined;

  // operations: rooms reload, drain, admin API
  let reloading: Promise<unknown> = Promise.resolve();
  const reloadRooms = (): Promise<RoomsReloadOutcome> => {
    const next = reloading.then(() => reloadRoomsFrom(config.roomsPath, chat, metrics, logger));
    reloading = next.catch(() => {});
    return next;
  };
  let drainBegun = false;
  let markDrained: () => void = () => {};
  const drained = new Promise<void>((r) => (markDrained = r));
  const drain = (trigger: "signal" | "admin"): void => {
    if (drainBegun) return;
    drainBegun = true;
    metrics.drainStarted(trigger);
    const { drainWindowMs: windowMs, drainTimeoutMs: timeoutMs } = config;
    logger.info(
      { trigger, sessions: chat.connectionCount, windowMs, timeoutMs },
      "draining: sessions are told to reconnect elsewhere",
    );
    void chat
      .drain({ windowMs, timeoutMs })
      .then((outcome) => {
        logger.info(
          { outcome, sessions: chat.connectionCount },
          outcome === "empty" ? "drained: the last session has gone" : "drain deadline passed",
        );
        return app.stop();
      })
      .then(markDrained, (err: unknown) => {
        logger.error({ err: String(err) }, "stop after drain failed");
        markDrained();
      });
  };
  const admin =
    config.adminToken === null
      ? undefined
      : new AdminApi({
          token: config.adminToken,
          metrics,
          logger,
          maxTextChars: config.limits.maxMessageChars,
          actions: {
            sessions: () => chat.sessionList(),
            kick: (id, message) => chat.kick(id, message),
            notice: (room, text) => chat.notice(room, text),
            drain: () => {
              const already = drainBegun;
              drain("admin");
              return { already, windowMs: config.drainWindowMs, timeoutMs: config.drainTimeoutMs };
            },
            reload: reloadRooms,
          },
        });
  const listen = async (
    port: number | null,
    framing: typeof lineFraming,
  ): Promise<AddressInfo | undefined> => {
    if (port === null) return undefined;
    const t = new TcpTransport(chat, {
      host: config.host,
      port,
      framing,
      maxFrameBytes: config.limits.maxLineBytes,
      keepAliveMs: config.limits.keepAliveMs,
      ...(tls !== undefined && { tls }),
      logger,
    });
    transports.push(t);
    return t.start();
  };
  try {
    const tcp = await listen(config.tcpPort, lineFraming);
    if (tcp) ports.tcp = tcp.port;
    const lp = await listen(config.lpPort, lengthPrefixedFraming);
    if (lp) ports.lp = lp.port;
    if (config.httpPort !== null) {
      http = new HttpServer({
        host: config.host,
        port: config.httpPort,
        webRoot: config.webRoot,
        webServers: config.webServers,
        readiness: () => {
          // The bridge is optional: reported, never a reason to be unready.
          const r = chat.readiness();
          return mqtt === undefined ? r : { ready: r.ready, detail: `${r.detail}${mqtt.status}\n` };
        },
        metrics: prometheus,
        ...(tls !== undefined && { tls }),
        logger,
        ...(admin !== undefined && { admin }),
      });
      ws = new WebSocketTransport(chat, {
        server: http.server,
        maxPayloadBytes: config.limits.maxLineBytes,
        heartbeatMs: config.wsHeartbeatMs,
        deflate: config.wsDeflate,
        logger,
      });
      ports.http = (await http.start()).port;
      ws.start();
    }
    if (config.udp.port !== null) {
      udp = new UdpEndpoint({
        host: config.host,
        port: config.udp.port,
        maxDatagramBytes: config.udp.maxBytes,
        ratePerIp: config.udp.ratePerIp,
        burstPerIp: config.udp.burstPerIp,
        globalRate: config.udp.globalRate,
        publisher: chat.external,
        // UDP publishing always needs a token (any configured key), whatever --auth says
        verifier: tokenVerifier,
        clock: chat.clock,
        logger,
        metrics: deviceMetrics!,
      });
      ports.udp = (await udp.start()).port;
    }
  } catch (err) {
    for (const t of transports) t.stopAccepting();
    await udp?.stop();
    await mqtt?.stop(0);
    await http?.stop();
    await chat.stop();
    await cluster?.bus.stop();
    await store?.close();
    throw err;
  }
  logger.info(
    {
      host: config.host,
      ...ports,
      rooms: options.rooms.length,
      store: store?.description ?? "off",
      bus: cluster !== undefined ? `${cluster.bus.description} (node ${cluster.nodeId})` : "memory",
      admin: admin !== undefined,
      auth:
        config.auth.mode === "off"
          ? "off"
          : `${config.auth.mode} (${jwt?.accepted.join(", ") ?? "embedded verifier"})`,
      tls: tls === undefined ? "off" : `serial ${tls.identity.serialNumber}`,
      mqtt: config.mqtt.url ?? "off",
      ...(mqtt !== undefined && { mqttIngest: config.mqtt.ingest }),
      ...(udp !== undefined && { udpPublishing: tokenVerifier !== undefined }),
    },
    "parley listening",
  );

  let stopping: Promise<void> | undefined;
  const app: App = {
    chat,
    ports,
    metrics: prometheus,
    reloadRooms,
    drain,
    drained,
    mqtt,
    stop() {
      stopping ??= (async () => {
        for (const t of transports) t.stopAccepting();
        ws?.stopAccepting();
        await udp?.stop();
        await mqtt?.stopIngest();
        await chat.stop();
        const grace = config.limits.shutdownGraceMs;
        await Promise.all([
          ...transports.map((t) => t.drain(grace)),
          ws?.drain(grace),
          mqtt?.stop(grace),
        ]);
        await cluster?.bus.stop();
        await store?.close();
        await http?.stop();
      })();
      return stopping;
    },
    reloadTls() {
      if (tls === undefined) {
        return Promise.resolve({ ok: false, code: "TLS_OFF", error: "TLS is not configured" });
      }
      return tls.reload();
    },
  };
  return app;
}

/** The TLS side of every listener, with the pair in `files` (read and checked here). */
async function openTls(
  files: TlsFiles,
  handshakeTimeoutMs: number,
  prometheus: PrometheusMetrics,
  logger: Logger,
): Promise<TlsListeners> {
  const identity = await loadTlsIdentity(files);
  prometheus.tlsCertificateInUse(identity.notAfter);
  return new TlsListeners({
    files,
    identity,
    handshakeTimeoutMs,
    onHandshakeFailure: (listener, reason) => prometheus.tlsHandshakeFailed(listener, reason),
    onReload: (ok, current) => {
      prometheus.tlsReloaded(ok);
      prometheus.tlsCertificateInUse(current.notAfter);
    },
    logger,
  });
}
