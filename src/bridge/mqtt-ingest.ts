import type { Clock, ExternalPublisher, Logger, TokenVerifier } from "../core/index.js";
import { KeyedRateLimiter } from "../core/keyed-rate-limiter.js";
import { PostError } from "../core/external-publisher.js";
import { ThrottledLog } from "../core/throttled-log.js";
import type { MqttTopics } from "./mqtt-topics.js";

/** Why a device message was dropped (the `reason` label of parley_mqtt_ingest_dropped_total). */
export type IngestDropReason =
  | "too_large"
  | "bad_json"
  | "bad_payload"
  | "unknown_room"
  | "unauthorized"
  | "forbidden"
  | "rate"
  | "store"
  | "not_accepting";

export interface MqttIngestMetrics {
  mqttIngested(): void;
  mqttIngestDropped(reason: IngestDropReason): void;
}

export interface MqttIngestOptions {
  publisher: Pick<ExternalPublisher, "post">;
  topics: MqttTopics;
  /** largest payload, bytes (a client's --max-line-bytes) */
  maxPayloadBytes: number;
  /** per device: sustained messages/s and burst (a client's --rate and --rate-burst) */
  ratePerSec: number;
  rateBurst: number;
  /** when given, every device message needs a valid `tok`, whose identity is the sender */
  verifier?: TokenVerifier | undefined;
  clock: Clock;
  logger: Logger;
  metrics: MqttIngestMetrics;
}

/** A device id given in `u` (without a TokenVerifier): what it may be. */
const DEVICE_ID = /^[A-Za-z0-9_.:@-]{1,64}$/;
/** The sender of a device message that gives no `u` (and no verifier is configured). */
const ANONYMOUS_DEVICE = "mqtt";

const utf8 = new TextDecoder("utf-8", { fatal: true });

interface DevicePayload {
  c: string;
  u?: string;
  cid?: string;
  tok?: string;
}

/**
 * Device messages from `PREFIX/rooms/ROOM/in` into ROOM, as any client's messages: the same
 * size limit, a token bucket per device (what exceeds it is dropped: a device cannot be held back
 * the way a session is), and with a TokenVerifier the token's subject, name and write rooms.
 * Payload: JSON `{"c": TEXT, "u"?: DEVICE_ID, "cid"?: ID, "tok"?: TOKEN}`. Whatever is wrong
 * with one is counted by reason, logged at debug (rate limited) and dropped; nothing is answered.
 */
export class MqttIngest {
  private readonly rates: KeyedRateLimiter;
  private readonly dropLog: ThrottledLog;

  constructor(private readonly options: MqttIngestOptions) {
    this.rates = new KeyedRateLimiter({ ratePerSec: options.ratePerSec, burst: options.rateBurst });
    this.dropLog = new ThrottledLog(options.logger, () => options.clock.now());
  }

  /** Posts one device message; resolves once it is stored or dropped, never rejects. */
  async handle(topic: string, payload: Uint8Array): Promise<void> {
    const o = this.options;
    const drop = (reason: IngestDropReason, detail?: string): void => {
      o.metrics.mqttIngestDropped(reason);
      this.dropLog.debug(
        { topic, reason, ...(detail !== undefined && { detail }) },
        "device message dropped",
      );
    };
    if (payload.length > o.maxPayloadBytes) return drop("too_large");
    const room = o.topics.roomOfIngest(topic);
    if (room === undefined) return drop("unknown_room");
    let msg: DevicePayload | undefined;
    try {
      msg = parsePayload(JSON.parse(utf8.decode(payload)) as unknown);
    } catch {
      return drop("bad_json");
    }
    if (msg === undefined) return drop("bad_payload");

    let user: string;
    let name: string | undefined;
    if (o.verifier !== undefined) {
      if (msg.tok === undefined) return drop("unauthorized", "no token");
      try {
        const id = await o.verifier.verify(msg.tok);
        if (id.writeRooms !== undefined && !id.writeRooms.includes(room)) return drop("forbidden");
        user = id.subject;
        name = id.name;
      } catch (err) {
        return drop("unauthorized", String((err as { reason?: unknown }).reason ?? err));
      }
    } else {
      if (msg.u !== undefined && !DEVICE_ID.test(msg.u)) return drop("bad_payload", "bad u");
      user = msg.u ?? ANONYMOUS_DEVICE;
    }
    if (!this.rates.allow(user, o.clock.now())) return drop("rate");
    try {
      await o.publisher.post({
        room,
        user,
        ...(name !== undefined && { name }),
        text: msg.c,
        ...(msg.cid !== undefined && { key: `mqtt:${user}`, cid: msg.cid }),
      });
      o.metrics.mqttIngested();
    } catch (err) {
      const code = err instanceof PostError ? err.code : "STORE_UNAVAILABLE";
      switch (code) {
        case "ROOM_NOT_FOUND":
          return drop("unknown_room");
        case "MESSAGE_TOO_LONG":
          return drop("too_large");
        case "MESSAGE_EMPTY":
        case "BAD_SENDER":
          return drop("bad_payload", code);
        case "NOT_ACCEPTING":
          return drop("not_accepting");
        case "STORE_UNAVAILABLE":
          return drop("store", String(err));
      }
    }
  }
}

function parsePayload(v: unknown): DevicePayload | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const { c, u, cid, tok } = o;
  if (typeof c !== "string") return undefined;
  for (const f of [u, cid, tok]) if (f !== undefined && typeof f !== "string") return undefined;
  return {
    c,
    ...(u !== undefined && { u: u as string }),
    ...(cid !== undefined && { cid: cid as string }),
    ...(tok !== undefined && { tok: tok as string }),
  };
}
