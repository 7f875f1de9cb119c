import { Counter, Gauge, type Registry } from "prom-client";
import type { IngestDropReason } from "../bridge/mqtt-ingest.js";
import type { MqttBridgeMetrics } from "../bridge/mqtt-bridge.js";
import type { UdpDropReason, UdpMetrics } from "../transports/udp-endpoint.js";

/**
 * The device integrations' series (MQTT bridge, UDP endpoint), on the registry /metrics serves
 * (PrometheusMetrics.registry). Registered only when one of them is on.
 */
export class DeviceMetrics implements MqttBridgeMetrics, UdpMetrics {
  private readonly mqttUpGauge: Gauge;
  private readonly mqttDepth: Gauge;
  private readonly mqttPublishedTotal: Counter;
  private readonly mqttDroppedTotal: Counter<"reason">;
  private readonly mqttIngestedTotal: Counter;
  private readonly mqttIngestDroppedTotal: Counter<"reason">;
  private readonly udpReceivedTotal: Counter;
  private readonly udpDroppedTotal: Counter<"reason">;
  private readonly udpPongsTotal: Counter;
  private readonly udpPublishedTotal: Counter;

  constructor(registry: Registry, prefix = "parley_") {
    const p = prefix;
    const registers = [registry];
    this.mqttUpGauge = new Gauge({
      name: `${p}mqtt_up`,
      help: "1 while the MQTT bridge is connected to its broker, 0 while not (publications queue meanwhile)",
      registers,
    });
    this.mqttDepth = new Gauge({
      name: `${p}mqtt_queue_depth`,
      help: "MQTT publications queued and not yet acknowledged by the broker",
      registers,
    });
    this.mqttPublishedTotal = new Counter({
      name: `${p}mqtt_published_total`,
      help: "MQTT publications (room messages and presence) the broker acknowledged",
      registers,
    });
    this.mqttDroppedTotal = new Counter({
      name: `${p}mqtt_dropped_total`,
      help: "MQTT publications dropped, by reason: overflow (queue full: the oldest went), refused (by the broker), shutdown (left after the grace period)",
      labelNames: ["reason"],
      registers,
    });
    this.mqttIngestedTotal = new Counter({
      name: `${p}mqtt_ingested_total`,
      help: "Device messages from MQTT posted into rooms (stored)",
      registers,
    });
    this.mqttIngestDroppedTotal = new Counter({
      name: `${p}mqtt_ingest_dropped_total`,
      help: "Device messages from MQTT dropped, by reason (too_large, bad_json, bad_payload, unknown_room, unauthorized, forbidden, rate, store, not_accepting)",
      labelNames: ["reason"],
      registers,
    });
    this.udpReceivedTotal = new Counter({
      name: `${p}udp_received_total`,
      help: "Datagrams received on the UDP endpoint",
      registers,
    });
    this.udpDroppedTotal = new Counter({
      name: `${p}udp_dropped_total`,
      help: "Datagrams dropped unanswered, by reason (too_large, bad_json, bad_command, rate, unauthorized, forbidden, unknown_room, store, reply_too_large, not_accepting)",
      labelNames: ["reason"],
      registers,
    });
    this.udpPongsTotal = new Counter({
      name: `${p}udp_pongs_total`,
      help: "Pings answered on the UDP endpoint",
      registers,
    });
    this.udpPublishedTotal = new Counter({
      name: `${p}udp_published_total`,
      help: "Messages posted into rooms from the UDP endpoint (stored)",
      registers,
    });
  }

  mqttUp(up: boolean): void {
    this.mqttUpGauge.set(up ? 1 : 0);
  }
  mqttQueueDepth(depth: number): void {
    this.mqttDepth.set(depth);
  }
  mqttPublished(): void {
    this.mqttPublishedTotal.inc();
  }
  mqttDropped(reason: "overflow" | "refused" | "shutdown"): void {
    this.mqttDroppedTotal.inc({ reason });
  }
  mqttIngested(): void {
    this.mqttIngestedTotal.inc();
  }
  mqttIngestDropped(reason: IngestDropReason): void {
    this.mqttIngestDroppedTotal.inc({ reason });
  }
  udpReceived(): void {
    this.udpReceivedTotal.inc();
  }
  udpDropped(reason: UdpDropReason): void {
    this.udpDroppedTotal.inc({ reason });
  }
  udpPonged(): void {
    this.udpPongsTotal.inc();
  }
  udpPublished(): void {
    this.udpPublishedTotal.inc();
  }
}
