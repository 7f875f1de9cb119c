import type { DisconnectCode } from "../protocol/index.js";
import type { Metrics, ReloadResult, TransportKind } from "./ports.js";

/** Plain in-process counters: the default Metrics, and what tests read. */
export class CounterMetrics implements Metrics {
  opened = 0;
  closed = 0;
  refused = 0;
  commands = 0;
  bytesIn = 0;
  deliveries = 0;
  bytesOut = 0;
  slowConsumers = 0;
  rateLimitHits = 0;
  sendersHeldBack = 0;
  readonly closedBy = new Map<string, number>();
  readonly refusedBy = new Map<string, number>();
  readonly slowConsumersBy = new Map<string, number>();

  connectionOpened(_transport: TransportKind): void {
    this.opened++;
  }
  connectionClosed(_transport: TransportKind, code: string): void {
    this.closed++;
    this.closedBy.set(code, (this.closedBy.get(code) ?? 0) + 1);
  }
  connectionRefused(_code: DisconnectCode, reason: string): void {
    this.refused++;
    this.refusedBy.set(reason, (this.refusedBy.get(reason) ?? 0) + 1);
  }
  commandReceived(_type: string): void {
    this.commands++;
  }
  bytesReceived(_transport: TransportKind, bytes: number): void {
    this.bytesIn += bytes;
  }
  eventDelivered(recipients: number, bytes: number): void {
    this.deliveries += recipients;
    this.bytesOut += recipients * bytes;
  }
  slowConsumerDisconnect(reason: string): void {
    this.slowConsumers++;
    this.slowConsumersBy.set(reason, (this.slowConsumersBy.get(reason) ?? 0) + 1);
  }
  senderHeldBack(): void {
    this.sendersHeldBack++;
  }
  rateLimited(): void {
    this.rateLimitHits++;
  }
  broadcastDuration(_ms: number): void {}
  storeCommits = 0;
  storeMessages = 0;
  readonly storeErrors = new Map<string, number>();
  storeIsUp = true;
  storeCommitted(messages: number, _ms: number): void {
    this.storeCommits++;
    this.storeMessages += messages;
  }
  storeError(op: string): void {
    this.storeErrors.set(op, (this.storeErrors.get(op) ?? 0) + 1);
  }
  storeUp(up: boolean): void {
    this.storeIsUp = up;
  }
  readonly busErrors = new Map<string, number>();
  busMessages = 0;
  busRepairs = 0;
  busIsUp = true;
  busError(op: string): void {
    this.busErrors.set(op, (this.busErrors.get(op) ?? 0) + 1);
  }
  busReceived(): void {
    this.busMessages++;
  }
  busRepaired(messages: number): void {
    this.busRepairs += messages;
  }
  busUp(up: boolean): void {
    this.busIsUp = up;
  }
  readonly reloads = new Map<ReloadResult, number>();
  readonly drains = new Map<string, number>();
  /** by `action status`, e.g. `sessions 401` */
  readonly adminRequests = new Map<string, number>();
  roomsReloaded(result: ReloadResult): void {
    this.reloads.set(result, (this.reloads.get(result) ?? 0) + 1);
  }
  drainStarted(trigger: string): void {
    this.drains.set(trigger, (this.drains.get(trigger) ?? 0) + 1);
  }
  adminRequest(action: string, status: number): void {
    const k = `${action} ${status}`;
    this.adminRequests.set(k, (this.adminRequests.get(k) ?? 0) + 1);
  }
  authSuccesses = 0;
  readonly authFailures = new Map<string, number>();
  authSucceeded(_via: string): void {
    this.authSuccesses++;
  }
  authFailed(reason: string): void {
    this.authFailures.set(reason, (this.authFailures.get(reason) ?? 0) + 1);
  }
}
