import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { DisconnectCode } from "../protocol/index.js";
import type { Metrics, ReloadResult, TransportKind } from "../core/index.js";
import { TallyHistogram } from "./tally-histogram.js";

/**
 * How often the event-loop lag is sampled (monitorEventLoopDelay's timer), ms. prom-client's
 * default, 10 ms, woke an idle server 100 times a second (measured: 104 wake-ups/s with no
 * client, 3 s of CPU an hour); at 100 ms it is 10. A stall of 100 ms or more is always seen, a
 * shorter one with a probability of its length over 100 ms, which the lag percentiles over a
 * scrape interval still show.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

/** What the HTTP server needs to answer `GET /metrics`. */
export interface MetricsExposition {
  readonly contentType: string;
  render(): Promise<string>;
}

export interface PrometheusMetricsOptions {
  /** metric name prefix; default `parley_` */
  prefix?: string;
  /**
   * Node process metrics (CPU, memory, GC, event-loop lag from monitorEventLoopDelay); default on.
   * Registered on this instance's own registry, never the global one.
   */
  processMetrics?: boolean;
}

/**
 * The core's Metrics as Prometheus series (prom-client), on a registry of its own so that several
 * servers in one process (tests) do not collide. The per-message counts (commands, bytes in,
 * events and bytes out) are plain-number increments on the hot path, copied into prom-client's
 * counters only when /metrics is scraped (prom-client's `collect` hook): prom-client's own inc()
 * hashes labels on every call, which cost ~1 µs per message at the seed load.
 */
export class PrometheusMetrics implements Metrics, MetricsExposition {
  readonly registry = new Registry();
  private readonly connections: Gauge<"transport">;
  private readonly opened: Counter<"transport">;
  private readonly closed: Counter<"transport" | "code">;
  private readonly refused: Counter<"code" | "reason">;
  private readonly commands: Counter<"command">;
  private readonly messagesOut: Counter;
  private readonly bytesOut: Counter;
  private readonly bytesIn: Counter<"transport">;
  // hot-path tallies, published by the counters' collect()
  private readonly commandCounts = new Map<string, number>();
  private readonly bytesInCounts = new Map<string, number>();
  private messagesOutCount = 0;
  private bytesOutCount = 0;
  private readonly slowConsumers: Counter<"reason">;
  private readonly sendersHeldBack: Counter;
  private readonly rateLimitHits: Counter;
  /** observed per message: a TallyHistogram (in-place buckets, published at scrape time) */
  private readonly broadcast: TallyHistogram;
  private readonly storeCommits: Histogram;
  private readonly storeMessages: Counter;
  private readonly storeErrors: Counter<"op">;
  private readonly storeUpGauge: Gauge;
  private readonly busErrors: Counter<"op">;
  private readonly busMessagesIn: Counter;
  private busMessagesInCount = 0;
  private readonly busRepairs: Counter;
  private readonly busUpGauge: Gauge;
  // operations: rooms reload, drain, admin API
  private readonly reloads: Counter<"result">;
  private readonly drains: Counter<"trigger">;
  private readonly adminRequests: Counter<"action" | "status">;
  private readonly authSuccesses: Counter<"via">;
  private readonly authFailures: Counter<"reason">;
  private readonly tls: TlsSeries;

  constructor(options: PrometheusMetricsOptions = {}) {
    const p = options.prefix ?? "parley_";
    const registers = [this.registry];
    this.connections = new Gauge({
      name: `${p}connections`,
      help: "Open chat connections (sessions), by transport",
      labelNames: ["transport"],
      registers,
    });
    for (const t of ["tcp", "tcp-lp", "ws"] satisfies TransportKind[])
      this.connections.set({ transport: t }, 0);
    this.opened = new Counter({
      name: `${p}connections_opened_total`,
      help: "Connections that got a session, by transport",
      labelNames: ["transport"],
      registers,
    });
    this.closed = new Counter({
      name: `${p}connections_closed_total`,
      help: "Sessions ended, by transport and disconnect code (PEER_CLOSED: the client went away)",
      labelNames: ["transport", "code"],
      registers,
    });
    this.refused = new Counter({
      name: `${p}connections_refused_total`,
      help: "Connections refused before a session, by code (SERVER_FULL, UNAUTHORIZED, ...) and reason (max_connections, per_ip_limit, per_ip_rate, auth, shutdown)",
      labelNames: ["code", "reason"],
      registers,
    });
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- read by the collect hooks
    const self = this;
    this.commands = new Counter({
      name: `${p}messages_in_total`,
      help: "Commands received and decoded, by command type",
      labelNames: ["command"],
      registers,
      collect() {
        this.reset();
        for (const [command, n] of self.commandCounts) this.inc({ command }, n);
      },
    });
    this.messagesOut = new Counter({
      name: `${p}messages_out_total`,
      help: "Events queued to connections (one per recipient)",
      registers,
      collect() {
        this.reset();
        this.inc(self.messagesOutCount);
      },
    });
    this.bytesOut = new Counter({
      name: `${p}bytes_out_total`,
      help: "Bytes of events queued to connections (JSON and line terminator, per recipient)",
      registers,
      collect() {
        this.reset();
        this.inc(self.bytesOutCount);
      },
    });
    this.bytesIn = new Counter({
      name: `${p}bytes_in_total`,
      help: "Bytes read from connections, by transport (before framing)",
      labelNames: ["transport"],
      registers,
      collect() {
        this.reset();
        for (const [transport, n] of self.bytesInCounts) this.inc({ transport }, n);
      },
    });
    this.slowConsumers = new Counter({
      name: `${p}slow_consumer_disconnects_total`,
      help: "Readers cut for their outbound queue, by reason: write_deadline (above the high-water mark too long) or hard_limit",
      labelNames: ["reason"],
      registers,
    });
    this.sendersHeldBack = new Counter({
      name: `${p}senders_held_back_total`,
      help: "Times a session stopped being read because a reader of its messages was congested",
      registers,
    });
    this.rateLimitHits = new Counter({
      name: `${p}rate_limit_hits_total`,
      help: "Times a session was held back by its command rate limit",
      registers,
    });
    this.broadcast = new TallyHistogram({
      name: `${p}broadcast_duration_seconds`,
      help: "Time from a message's arrival to its fan-out being queued on every member",
      // 5 us to 100 ms: a fan-out to a few members takes microseconds, to thousands milliseconds
      buckets: [
        5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1,
      ],
      registers,
    });
    this.storeCommits = new Histogram({
      name: `${p}store_commit_duration_seconds`,
      help: "Time to commit one batch (the messages accepted in one event-loop turn) to the message store",
      buckets: [1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 1],
      registers,
    });
    this.storeMessages = new Counter({
      name: `${p}store_messages_total`,
      help: "Messages committed to the message store",
      registers,
    });
    this.storeErrors = new Counter({
      name: `${p}store_errors_total`,
      help: "Message store operations that failed, by operation (append: messages refused to their senders)",
      labelNames: ["op"],
      registers,
    });
    this.storeUpGauge = new Gauge({
      name: `${p}store_up`,
      help: "1 while the message store answers, 0 while it fails (then /readyz answers 503)",
      registers,
    });
    this.storeUpGauge.set(1);
    this.busErrors = new Counter({
      name: `${p}bus_errors_total`,
      help: "Bus operations that failed, by operation (what others missed is repaired from the store)",
      labelNames: ["op"],
      registers,
    });
    this.busMessagesIn = new Counter({
      name: `${p}bus_messages_received_total`,
      help: "Payloads received from the bus: only for rooms this node has members in",
      registers,
      collect() {
        this.reset();
        this.inc(self.busMessagesInCount);
      },
    });
    this.busRepairs = new Counter({
      name: `${p}bus_repaired_messages_total`,
      help: "Messages read from the store because the bus did not bring them",
      registers,
    });
    this.busUpGauge = new Gauge({
      name: `${p}bus_up`,
      help: "1 while the bus (Redis) is connected, 0 while not (local members are still served)",
      registers,
    });
    this.busUpGauge.set(1);
    this.reloads = new Counter({
      name: `${p}reloads_total`,
      help: "Rooms reloads (SIGHUP, admin API), by result: ok, invalid (bad rooms file: the old rooms kept), error (the store could not open the new rooms)",
      labelNames: ["result"],
      registers,
    });
    for (const result of ["ok", "invalid", "error"] satisfies ReloadResult[]) {
      this.reloads.inc({ result }, 0);
    }
    this.drains = new Counter({
      name: `${p}drains_total`,
      help: "Drains begun, by trigger: signal (SIGUSR2) or admin",
      labelNames: ["trigger"],
      registers,
    });
    this.adminRequests = new Counter({
      name: `${p}admin_requests_total`,
      help: "Admin API requests, by action and HTTP status (401: missing or wrong token)",
      labelNames: ["action", "status"],
      registers,
    });
    this.authSuccesses = new Counter({
      name: `${p}auth_successes_total`,
      help: "Tokens accepted, by where they came (tcp, tcp-lp, ws)",
      labelNames: ["via"],
      registers,
    });
    this.authFailures = new Counter({
      name: `${p}auth_failures_total`,
      help: "Tokens refused, or missing where required, by reason: expired, malformed, bad_signature, claims, missing",
      labelNames: ["reason"],
      registers,
    });
    for (const reason of ["expired", "malformed", "bad_signature", "claims", "missing"]) {
      this.authFailures.inc({ reason }, 0);
    }
    this.tls = tlsSeries(p, registers);
    if (options.processMetrics ?? true) {
      collectDefaultMetrics({
        register: this.registry,
        eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS,
      });
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  connectionOpened(transport: TransportKind): void {
    this.connections.inc({ transport });
    this.opened.inc({ transport });
  }

  connectionClosed(transport: TransportKind, code: string): void {
    this.connections.dec({ transport });
    this.closed.inc({ transport, code });
  }

  connectionRefused(code: DisconnectCode, reason: string): void {
    this.refused.inc({ code, reason });
  }

  commandReceived(type: string): void {
    this.commandCounts.set(type, (this.commandCounts.get(type) ?? 0) + 1);
  }

  bytesReceived(transport: TransportKind, bytes: number): void {
    this.bytesInCounts.set(transport, (this.bytesInCounts.get(transport) ?? 0) + bytes);
  }

  eventDelivered(recipients: number, bytes: number): void {
    this.messagesOutCount += recipients;
    this.bytesOutCount += recipients * bytes;
  }

  slowConsumerDisconnect(reason: "write_deadline" | "hard_limit"): void {
    this.slowConsumers.inc({ reason });
  }

  senderHeldBack(): void {
    this.sendersHeldBack.inc();
  }

  rateLimited(): void {
    this.rateLimitHits.inc();
  }

  broadcastDuration(ms: number): void {
    this.broadcast.observe(ms / 1000);
  }

  storeCommitted(messages: number, ms: number): void {
    this.storeCommits.observe(ms / 1000);
    this.storeMessages.inc(messages);
  }

  storeError(op: "append" | "read" | "trim"): void {
    this.storeErrors.inc({ op });
  }

  storeUp(up: boolean): void {
    this.storeUpGauge.set(up ? 1 : 0);
  }

  busError(op: "publish" | "subscribe"): void {
    this.busErrors.inc({ op });
  }

  busReceived(): void {
    this.busMessagesInCount++;
  }

  busRepaired(messages: number): void {
    if (messages > 0) this.busRepairs.inc(messages);
  }

  busUp(up: boolean): void {
    this.busUpGauge.set(up ? 1 : 0);
  }

  roomsReloaded(result: ReloadResult): void {
    this.reloads.inc({ result });
  }

  drainStarted(trigger: "signal" | "admin"): void {
    this.drains.inc({ trigger });
  }

  adminRequest(action: string, status: number): void {
    this.adminRequests.inc({ action, status: String(status) });
  }

  authSucceeded(via: string): void {
    this.authSuccesses.inc({ via });
  }

  authFailed(reason: string): void {
    this.authFailures.inc({ reason });
  }

  // ---------------------------------------------------------------- TLS (listeners, not core)

  /** a TLS handshake on `listener` (tcp, tcp-lp, https) did not complete */
  tlsHandshakeFailed(listener: string, reason: string): void {
    this.tls.handshakeFailures.inc({ listener, reason });
  }

  /** a SIGHUP reload of the certificate and key: applied, or refused (the old pair stays) */
  tlsReloaded(ok: boolean): void {
    this.tls.reloads.inc({ result: ok ? "ok" : "failed" });
  }

  /** the certificate in use: its expiry */
  tlsCertificateInUse(notAfter: Date): void {
    this.tls.notAfter.set(notAfter.getTime() / 1000);
  }
}

interface TlsSeries {
  handshakeFailures: Counter<"listener" | "reason">;
  reloads: Counter<"result">;
  notAfter: Gauge;
}

function tlsSeries(p: string, registers: Registry[]): TlsSeries {
  return {
    handshakeFailures: new Counter({
      name: `${p}tls_handshake_failures_total`,
      help: "TLS handshakes that did not complete, by listener (tcp, tcp-lp, https) and reason (timeout, protocol: not TLS or a refused version, peer_rejected: the client sent an alert, typically not trusting the certificate, reset, other)",
      labelNames: ["listener", "reason"],
      registers,
    }),
    reloads: new Counter({
      name: `${p}tls_reloads_total`,
      help: "Certificate reloads (SIGHUP), by result: ok, or failed (the previous certificate stays in use)",
      labelNames: ["result"],
      registers,
    }),
    notAfter: new Gauge({
      name: `${p}tls_certificate_not_after_seconds`,
      help: "Expiry of the TLS certificate in use, seconds since the Unix epoch (0 without TLS)",
      registers,
    }),
  };
}
