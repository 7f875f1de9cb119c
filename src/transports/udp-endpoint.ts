import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import type { AddressInfo } from "node:net";
import type { Clock, ExternalPublisher, Logger, TokenVerifier } from "../core/index.js";
import { TokenBucket } from "../core/index.js";
import { KeyedRateLimiter } from "../core/keyed-rate-limiter.js";
import { PostError } from "../core/external-publisher.js";
import { ThrottledLog } from "../core/throttled-log.js";

/** Why a datagram was dropped (the `reason` label of parley_udp_dropped_total). */
export type UdpDropReason =
  | "too_large"
  | "bad_json"
  | "bad_command"
  | "rate"
  | "unauthorized"
  | "forbidden"
  | "unknown_room"
  | "store"
  /** a ping whose pong would be larger than it (never sent: no amplification) */
  | "reply_too_large"
  /** the server is shutting down */
  | "not_accepting";

export interface UdpMetrics {
  udpReceived(): void;
  udpDropped(reason: UdpDropReason): void;
  udpPonged(): void;
  udpPublished(): void;
}

export interface UdpEndpointOptions {
  host: string;
  /** 0 picks a free port */
  port: number;
  /** larger datagrams are dropped, bytes (default 1,200: one datagram below any path's MTU) */
  maxDatagramBytes: number;
  /** per source address: datagrams/s and burst (defaults 20 and 40) */
  ratePerIp: number;
  burstPerIp: number;
  /** datagrams/s over all sources (burst: twice that), default 1,000; 0 = no global cap */
  globalRate: number;
  publisher: Pick<ExternalPublisher, "post">;
  /** without one, publishing is off and only ping is answered */
  verifier?: TokenVerifier | undefined;
  clock: Clock;
  logger: Logger;
  metrics: UdpMetrics;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A UDP endpoint for health checks and small devices: one JSON command per datagram.
 *   {"_ct":"ping","t"?:X}                                          -> {"_et":"pong","t":X}
 *   {"_ct":"send_message","r":ROOM,"c":TEXT,"tok":TOKEN,"cid"?:ID} -> posted, nothing answered
 * UDP source addresses can be forged, so nothing here may amplify: a pong goes only when it is no
 * larger than its ping, and nothing else is ever answered (no error replies, no acks): a bad
 * datagram is counted by reason, logged at debug (rate limited) and dropped. Before anything is
 * parsed, datagrams are bounded in size, per source address and overall. Publishing needs a
 * token a TokenVerifier accepts (its subject and name are the sender, its write rooms apply); the
 * message goes through the path of any client's (ExternalPublisher), fire-and-forget.
 */
export class UdpEndpoint {
  private readonly socket: Socket;
  private readonly perIp: KeyedRateLimiter;
  private readonly global: TokenBucket | undefined;
  private readonly dropLog: ThrottledLog;

  constructor(private readonly options: UdpEndpointOptions) {
    this.socket = createSocket({ type: options.host.includes(":") ? "udp6" : "udp4" });
    const now = options.clock.now();
    this.perIp = new KeyedRateLimiter({ ratePerSec: options.ratePerIp, burst: options.burstPerIp });
    this.global =
      options.globalRate > 0
        ? new TokenBucket(options.globalRate, options.globalRate * 2, now)
        : undefined;
    this.dropLog = new ThrottledLog(options.logger, () => options.clock.now());
    this.socket.on("message", (msg, rinfo) => this.receive(msg, rinfo));
    this.socket.on("error", (err) =>
      options.logger.warn({ err: String(err) }, "udp endpoint error"),
    );
  }

  start(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.socket.once("error", reject);
      this.socket.bind({ address: this.options.host, port: this.options.port }, () => {
        this.socket.off("error", reject);
        resolve(this.socket.address());
      });
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // never bound, or closed already
      }
    });
  }

  private drop(reason: UdpDropReason, from: RemoteInfo, detail?: string): void {
    this.options.metrics.udpDropped(reason);
    this.dropLog.debug(
      { from: from.address, reason, ...(detail !== undefined && { detail }) },
      "udp datagram dropped",
    );
  }

  private receive(msg: Buffer, from: RemoteInfo): void {
    const o = this.options;
    o.metrics.udpReceived();
    if (msg.length > o.maxDatagramBytes) return this.drop("too_large", from);
    const now = o.clock.now();
    if (this.global !== undefined && this.global.take(now) > 0) return this.drop("rate", from);
    if (!this.perIp.allow(from.address, now)) return this.drop("rate", from);
    let cmd: unknown;
    try {
      cmd = JSON.parse(utf8.decode(msg));
    } catch {
      return this.drop("bad_json", from);
    }
    if (typeof cmd !== "object" || cmd === null || Array.isArray(cmd)) {
      return this.drop("bad_command", from);
    }
    const c = cmd as Record<string, unknown>;
    switch (c._ct) {
      case "ping":
        return this.ping(c, msg.length, from);
      case "send_message":
        void this.send(c, from);
        return;
      default:
        return this.drop("bad_command", from);
    }
  }

  private ping(c: Record<string, unknown>, requestBytes: number, from: RemoteInfo): void {
    const t = c.t;
    if (
      t !== undefined &&
      typeof t !== "string" &&
      !(typeof t === "number" && Number.isFinite(t))
    ) {
      return this.drop("bad_command", from);
    }
    const reply = Buffer.from(
      JSON.stringify(t === undefined ? { _et: "pong" } : { _et: "pong", t }),
    );
    if (reply.length > requestBytes) return this.drop("reply_too_large", from);
    this.socket.send(reply, from.port, from.address, (err) => {
      if (err) this.options.logger.debug({ err: String(err) }, "udp pong not sent");
    });
    this.options.metrics.udpPonged();
  }

  private async send(c: Record<string, unknown>, from: RemoteInfo): Promise<void> {
    const o = this.options;
    const { r, c: text, tok, cid } = c;
    if (
      typeof r !== "string" ||
      typeof text !== "string" ||
      (tok !== undefined && typeof tok !== "string") ||
      (cid !== undefined && typeof cid !== "string")
    ) {
      return this.drop("bad_command", from);
    }
    if (o.verifier === undefined) return this.drop("unauthorized", from, "publishing is off");
    if (tok === undefined) return this.drop("unauthorized", from, "no token");
    let user: string;
    let name: string | undefined;
    try {
      const id = await o.verifier.verify(tok);
      if (id.writeRooms !== undefined && !id.writeRooms.includes(r)) {
        return this.drop("forbidden", from);
      }
      user = id.subject;
      name = id.name;
    } catch (err) {
      return this.drop("unauthorized", from, String((err as { reason?: unknown }).reason ?? err));
    }
    try {
      await o.publisher.post({
        room: r,
        user,
        ...(name !== undefined && { name }),
        text,
        ...(cid !== undefined && { key: `udp:${user}`, cid }),
      });
      o.metrics.udpPublished();
    } catch (err) {
      const code = err instanceof PostError ? err.code : "STORE_UNAVAILABLE";
      switch (code) {
        case "ROOM_NOT_FOUND":
          return this.drop("unknown_room", from);
        case "MESSAGE_TOO_LONG":
        case "MESSAGE_EMPTY":
        case "BAD_SENDER":
          return this.drop("bad_command", from, code);
        case "NOT_ACCEPTING":
          return this.drop("not_accepting", from);
        case "STORE_UNAVAILABLE":
          return this.drop("store", from, String(err));
      }
    }
  }
}
