import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { Clock, ExternalPublisher, Logger, RoomEvents, TokenVerifier } from "../core/index.js";
import { MqttIngest, type MqttIngestMetrics } from "./mqtt-ingest.js";
import { MqttTopics } from "./mqtt-topics.js";
import { PublishQueue } from "./publish-queue.js";
import { ReconnectDelay } from "./reconnect-delay.js";

export interface MqttBridgeMetrics extends MqttIngestMetrics {
  /** connected to the broker (true) or not */
  mqttUp(up: boolean): void;
  /** publications queued and not yet acknowledged by the broker */
  mqttQueueDepth(depth: number): void;
  /** publications the broker acknowledged */
  mqttPublished(): void;
  /**
   * publications dropped: the queue was full (the oldest goes), the broker refused one (a reason
   * code in its PUBACK), or left over at shutdown
   */
  mqttDropped(reason: "overflow" | "refused" | "shutdown"): void;
}

export interface MqttBridgeOptions {
  /** broker URL: mqtt://, mqtts://, ws://, wss:// */
  url: string;
  /** topic prefix (default `parley`; see MqttTopics) */
  prefix: string;
  /** subscribe to device messages (`PREFIX/rooms/+/in`) and post them into their rooms */
  ingest: boolean;
  /** publications kept while the broker is away (default 10,000); past it the oldest is dropped */
  queueMax: number;
  /** the group of the shared ingest subscription (`$share/GROUP/...`), default `parley` */
  shareGroup?: string;
  /** MQTT client id (default parley-NODE-RANDOM: every node and restart its own session) */
  clientId?: string;
  /** reconnect delays: first ceiling and cap, ms (defaults 500 and 30,000; see ReconnectDelay) */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** publications awaiting their PUBACK at once (default 100) */
  window?: number;
  events: RoomEvents;
  publisher: Pick<ExternalPublisher, "post">;
  /** device limits: a client's --max-line-bytes, --rate and --rate-burst */
  maxPayloadBytes: number;
  ratePerSec: number;
  rateBurst: number;
  verifier?: TokenVerifier | undefined;
  clock: Clock;
  logger: Logger;
  metrics: MqttBridgeMetrics;
}

/** A broker that has not answered CONNECT within this is given up on (and retried), ms. */
const CONNECT_TIMEOUT_MS = 10_000;

/** One connection to the broker (a new client each time: see the class comment). */
interface Link {
  readonly client: MqttClient;
  connected: boolean;
  /** the ingest subscription was acknowledged */
  subscribed: boolean;
  inFlight: number;
}

/**
 * Room events to MQTT, and optionally device messages from MQTT into rooms.
 *
 * Out: every message this node accepted (once stored) goes to `PREFIX/rooms/ROOM/messages` and
 * every join and leave of its sessions to `PREFIX/rooms/ROOM/presence`, QoS 1, the payload being
 * the event's JSON as clients get it. On a cluster each node publishes only what originated on it
 * (see RoomEvents), so each event is published once cluster-wide; per room, each node's events
 * arrive in order, and `id` (the room offset) orders messages across nodes.
 *
 * While the broker is away publications wait in a bounded queue (the oldest dropped past
 * `queueMax`, counted) and the bridge reconnects with jittered, capped backoff; back, it sends
 * the queue in order, removing each publication only on its PUBACK (at least once). A broker
 * unreachable at start does not stop the server: the bridge keeps trying. Each attempt uses a
 * fresh client (mqtt.js's own reconnect is off) so that what is resent, and in which order, is
 * decided here only.
 *
 * In (`ingest`): a shared subscription to `PREFIX/rooms/+/in`, so that one node of a cluster
 * takes each device message; see MqttIngest. A device message is acknowledged to the broker
 * (PUBACK) only once it is stored or dropped; they are handled one at a time per connection.
 */
export class MqttBridge {
  readonly topics: MqttTopics;
  private readonly queue: PublishQueue;
  private readonly ingest: MqttIngest | undefined;
  private readonly delay: ReconnectDelay;
  private readonly window: number;
  private readonly clientId: string;
  private link: Link | undefined;
  private reconnectTimer: unknown;
  private stopped = false;
  private warnedUnreachable = false;
  private ingesting: boolean;
  private drainWaiters: Array<() => void> = [];

  constructor(private readonly options: MqttBridgeOptions) {
    this.topics = new MqttTopics(options.prefix);
    this.queue = new PublishQueue(options.queueMax);
    this.window = options.window ?? 100;
    this.delay = new ReconnectDelay(
      options.reconnectBaseMs ?? 500,
      options.reconnectMaxMs ?? 30_000,
    );
    this.clientId = options.clientId ?? `parley-${Math.random().toString(36).slice(2, 10)}`;
    this.ingesting = options.ingest;
    if (options.ingest) {
      this.ingest = new MqttIngest({
        publisher: options.publisher,
        topics: this.topics,
        maxPayloadBytes: options.maxPayloadBytes,
        ratePerSec: options.ratePerSec,
        rateBurst: options.rateBurst,
        verifier: options.verifier,
        clock: options.clock,
        logger: options.logger,
        metrics: options.metrics,
      });
    }
  }

  get up(): boolean {
    return this.link?.connected ?? false;
  }

  /** the ingest subscription is active on the current connection */
  get ingestActive(): boolean {
    return this.link?.subscribed ?? false;
  }

  get queued(): number {
    return this.queue.depth;
  }

  /** for /readyz: the bridge is optional, so it is reported, never made a reason to be unready */
  get status(): string {
    const ingest = this.ingest === undefined ? "" : `, ingest ${this.ingestActive ? "on" : "off"}`;
    return `mqtt: ${this.up ? "up" : "down"} (queued ${this.queue.depth}${ingest})`;
  }

  /** Starts listening to room events and connecting; never waits for (or fails on) the broker. */
  start(): void {
    const { events } = this.options;
    events.onMessage((e) => this.enqueue(this.topics.messages(e.msg.room), e.event.json));
    events.onPresence((room, e) => this.enqueue(this.topics.presence(room), e.json));
    this.options.metrics.mqttUp(false);
    this.connect();
  }

  private enqueue(topic: string, payload: string): void {
    if (this.stopped) return;
    if (this.queue.push(topic, payload) > 0) this.options.metrics.mqttDropped("overflow");
    this.options.metrics.mqttQueueDepth(this.queue.depth);
    this.pump();
  }

  // ------------------------------------------------------------------ the connection

  private connect(): void {
    if (this.stopped) return;
    const options: IClientOptions = {
      clientId: this.clientId,
      protocolVersion: 5,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: CONNECT_TIMEOUT_MS,
    };
    const link: Link = {
      client: mqtt.connect(this.options.url, options),
      connected: false,
      subscribed: false,
      inFlight: 0,
    };
    this.link = link;
    const { client } = link;
    if (this.ingest !== undefined) {
      const ingest = this.ingest;
      // One device message at a time; its PUBACK goes once it is stored or dropped.
      client.handleMessage = (packet, done) => {
        if (!this.ingesting) return done();
        const topic = packet.topic;
        const payload =
          typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
        ingest.handle(topic, payload).then(
          () => done(),
          () => done(),
        );
      };
    }
    client.on("connect", () => {
      if (this.link !== link) return;
      link.connected = true;
      this.warnedUnreachable = false;
      this.delay.reset();
      this.options.metrics.mqttUp(true);
      this.options.logger.info(
        { url: this.options.url, queued: this.queue.depth },
        "mqtt bridge connected",
      );
      if (this.ingest !== undefined && this.ingesting) {
        client.subscribe(
          this.topics.ingestFilter(this.options.shareGroup ?? "parley"),
          { qos: 1 },
          (err, granted) => {
            // a SUBACK reason code >= 0x80 refuses the subscription (e.g. no shared subscriptions)
            const code = granted?.[0]?.qos ?? 0x80;
            if (err || code >= 0x80) {
              this.options.logger.warn(
                { err: String(err ?? `reason code ${code}`) },
                "mqtt ingest subscription failed",
              );
            } else link.subscribed = true;
          },
        );
      }
      this.queue.rewind();
      this.pump();
    });
    client.on("error", (err) => {
      this.options.logger.debug({ url: this.options.url, err: String(err) }, "mqtt bridge error");
    });
    client.on("close", () => this.lost(link));
  }

  private lost(link: Link): void {
    if (this.link !== link) return;
    this.link = undefined;
    if (!link.connected && !this.warnedUnreachable) {
      // once per outage; each further attempt is logged at debug (the "error" handler)
      this.warnedUnreachable = true;
      this.options.logger.warn(
        { url: this.options.url, queued: this.queue.depth },
        "mqtt broker unreachable: retrying with backoff",
      );
    }
    if (link.connected) {
      this.options.metrics.mqttUp(false);
      this.options.logger.warn(
        { url: this.options.url, queued: this.queue.depth },
        "mqtt bridge disconnected",
      );
    }
    link.connected = false;
    link.client.end(true);
    if (this.stopped) return;
    const ms = this.delay.next();
    this.reconnectTimer = this.options.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, ms);
  }

  /** Sends queued publications in order, at most `window` awaiting their PUBACK. */
  private pump(): void {
    const link = this.link;
    if (link === undefined || !link.connected) return;
    while (link.inFlight < this.window) {
      const p = this.queue.next();
      if (p === undefined) break;
      link.inFlight++;
      link.client.publish(p.topic, p.payload, { qos: 1 }, (err) => {
        link.inFlight--;
        // A reason code: the broker refused it (not authorised, ...): sending it again would not
        // help. Another error: the connection is gone: it stays queued for the next one.
        const refused =
          err !== undefined && err !== null && typeof (err as { code?: unknown }).code === "number";
        if (err === undefined || err === null || refused) {
          if (this.queue.ack(p)) {
            if (refused) {
              this.options.metrics.mqttDropped("refused");
              this.options.logger.warn(
                { topic: p.topic, err: String(err) },
                "mqtt broker refused a publication",
              );
            } else this.options.metrics.mqttPublished();
          }
          this.options.metrics.mqttQueueDepth(this.queue.depth);
          if (this.queue.depth === 0) this.wakeDrained();
        }
        if (this.link === link) this.pump();
      });
    }
  }

  private wakeDrained(): void {
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f();
  }

  // ------------------------------------------------------------------ shutdown

  /**
   * Stops taking device messages (before the chat server stops): the shared subscription is
   * dropped, so the broker gives the group's next messages to the other nodes.
   */
  async stopIngest(): Promise<void> {
    if (!this.ingesting) return;
    this.ingesting = false;
    const link = this.link;
    if (link === undefined || !link.connected) return;
    link.subscribed = false;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1_000);
      link.client.unsubscribe(this.topics.ingestFilter(this.options.shareGroup ?? "parley"), () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /**
   * Delivers what is queued (the last leaves of a shutdown included) for at most `graceMs`, then
   * disconnects; what is still queued then is dropped and counted.
   */
  async stop(graceMs: number): Promise<void> {
    await this.stopIngest();
    if (this.queue.depth > 0 && this.link?.connected === true) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, graceMs);
        this.drainWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.stopped = true;
    if (this.reconnectTimer !== undefined) this.options.clock.clearTimeout(this.reconnectTimer);
    const left = this.queue.clear();
    for (let i = 0; i < left; i++) this.options.metrics.mqttDropped("shutdown");
    if (left > 0)
      this.options.logger.warn({ left }, "mqtt bridge: publications not delivered at shutdown");
    this.options.metrics.mqttQueueDepth(0);
    const link = this.link;
    this.link = undefined;
    if (link !== undefined) {
      await new Promise<void>((resolve) => link.client.end(false, {}, () => resolve()));
    }
    this.options.metrics.mqttUp(false);
  }
}
