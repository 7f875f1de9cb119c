import type { DisconnectCode } from "../protocol/index.js";
import type { Metrics, ReloadResult, TransportKind } from "../core/index.js";

/** Reports every count to several Metrics (the Prometheus exposition and a caller's own). */
export class TeeMetrics implements Metrics {
  private readonly targets: readonly Metrics[];

  constructor(...targets: Metrics[]) {
    this.targets = targets;
  }

  connectionOpened(transport: TransportKind): void {
    for (const t of this.targets) t.connectionOpened(transport);
  }
  connectionClosed(transport: TransportKind, code: string): void {
    for (const t of this.targets) t.connectionClosed(transport, code);
  }
  connectionRefused(code: DisconnectCode, reason: string): void {
    for (const t of this.targets) t.connectionRefused(code, reason);
  }
  commandReceived(type: string): void {
    for (const t of this.targets) t.commandReceived(type);
  }
  bytesReceived(transport: TransportKind, bytes: number): void {
    for (const t of this.targets) t.bytesReceived(transport, bytes);
  }
  eventDelivered(recipients: number, bytes: number): void {
    for (const t of this.targets) t.eventDelivered(recipients, bytes);
  }
  slowConsumerDisconnect(reason: "write_deadline" | "hard_limit"): void {
    for (const t of this.targets) t.slowConsumerDisconnect(reason);
  }
  senderHeldBack(): void {
    for (const t of this.targets) t.senderHeldBack();
  }
  rateLimited(): void {
    for (const t of this.targets) t.rateLimited();
  }
  broadcastDuration(ms: number): void {
    for (const t of this.targets) t.broadcastDuration(ms);
  }
  storeCommitted(messages: number, ms: number): void {
    for (const t of this.targets) t.storeCommitted(messages, ms);
  }
  storeError(op: "append" | "read" | "trim"): void {
    for (const t of this.targets) t.storeError(op);
  }
  storeUp(up: boolean): void {
    for (const t of this.targets) t.storeUp(up);
  }
  busError(op: "publish" | "subscribe"): void {
    for (const t of this.targets) t.busError(op);
  }
  busReceived(): void {
    for (const t of this.targets) t.busReceived();
  }
  busRepaired(messages: number): void {
    for (const t of this.targets) t.busRepaired(messages);
  }
  busUp(up: boolean): void {
    for (const t of this.targets) t.busUp(up);
  }
  roomsReloaded(result: ReloadResult): void {
    for (const t of this.targets) t.roomsReloaded(result);
  }
  drainStarted(trigger: "signal" | "admin"): void {
    for (const t of this.targets) t.drainStarted(trigger);
  }
  adminRequest(action: string, status: number): void {
    for (const t of this.targets) t.adminRequest(action, status);
  }
  authSucceeded(via: string): void {
    for (const t of this.targets) t.authSucceeded(via);
  }
  authFailed(reason: string): void {
    for (const t of this.targets) t.authFailed(reason);
  }
}
