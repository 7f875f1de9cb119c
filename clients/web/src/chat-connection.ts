import type { Command, Event } from "../../../src/protocol/index.js";
import { decodeEvent, encodeCommand } from "../../../src/protocol/index.js";
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.js";

export type ConnectionState =
  | { kind: "connecting"; attempt: number }
  | { kind: "open" }
  | { kind: "waiting"; attempt: number; retryAt: number; reason: string }
  | { kind: "stopped"; reason: string };

export interface ConnectionHandlers {
  /** every event; `login_successful` starts a new session (say hello, rejoin rooms) */
  onEvent(event: Event): void;
  onState(state: ConnectionState): void;
}

export interface ChatConnectionOptions {
  backoff?: BackoffOptions;
  /** send a ping this often when nothing else was received, ms */
  pingEveryMs?: number;
  /** no answer to a ping within this: the connection is dead, reconnect, ms */
  pingTimeoutMs?: number;
}

/**
 * One logical chat connection over successive WebSockets: reconnects with exponential backoff
 * and jitter after a drop, unless the server said not to (`disconnect.reconnect: false`) or the
 * user quit. Browsers answer the server's WebSocket pings themselves, but cannot see a silently
 * dead link; a protocol `ping` after a quiet spell finds it.
 */
export class ChatConnection {
  private ws: WebSocket | undefined;
  private attempt = 0;
  private stopped = false;
  private noReconnectReason: string | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setTimeout> | undefined;
  private awaitingPong = false;
  private readonly backoff: BackoffOptions;
  private readonly pingEveryMs: number;
  private readonly pingTimeoutMs: number;

  constructor(
    private readonly url: string,
    private readonly handlers: ConnectionHandlers,
    options: ChatConnectionOptions = {},
  ) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.pingEveryMs = options.pingEveryMs ?? 25_000;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 10_000;
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  start(): void {
    this.stopped = false;
    this.noReconnectReason = undefined;
    this.open();
  }

  /** Ends the connection for good (quit): no reconnect. */
  stop(reason = "disconnected"): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.pingTimer);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.send({ _ct: "quit" });
    this.ws?.close(1000, "quit");
    this.ws = undefined;
    this.handlers.onState({ kind: "stopped", reason });
  }

  /** Skips the wait before the next attempt. */
  retryNow(): void {
    if (this.stopped || this.ws) return;
    clearTimeout(this.retryTimer);
    this.open();
  }

  /** Sends a command; returns false when there is no open connection to send it on. */
  send(cmd: Command): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(encodeCommand(cmd));
    return true;
  }

  private open(): void {
    this.handlers.onState({ kind: "connecting", attempt: this.attempt });
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onmessage = (msg: MessageEvent) => {
      if (typeof msg.data !== "string") return;
      const ev = decodeEvent(msg.data);
      if (!ev) return;
      this.alive();
      if (ev._et === "login_successful") {
        this.attempt = 0;
        this.handlers.onState({ kind: "open" });
      } else if (ev._et === "disconnect" && !ev.reconnect) {
        this.noReconnectReason = `${ev.message} (${ev.code})`;
      }
      this.handlers.onEvent(ev);
    };
    ws.onclose = (close: CloseEvent) => {
      if (this.ws !== ws) return; // an older socket
      this.ws = undefined;
      clearTimeout(this.pingTimer);
      if (this.stopped) return;
      if (this.noReconnectReason !== undefined) {
        this.stopped = true;
        this.handlers.onState({ kind: "stopped", reason: this.noReconnectReason });
        return;
      }
      const delay = backoffDelay(this.attempt, this.backoff);
      const reason =
        close.reason || (close.code === 1006 ? "connection lost" : `closed (${close.code})`);
      this.attempt++;
      this.handlers.onState({
        kind: "waiting",
        attempt: this.attempt,
        retryAt: Date.now() + delay,
        reason,
      });
      this.retryTimer = setTimeout(() => this.open(), delay);
    };
    // onerror is always followed by onclose, which decides what to do
    ws.onerror = () => {};
  }

  /** Something arrived: the link is alive; ping again after a quiet `pingEveryMs`. */
  private alive(): void {
    this.awaitingPong = false;
    clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(() => this.probe(), this.pingEveryMs);
  }

  private probe(): void {
    if (this.awaitingPong) {
      this.ws?.close(4000, "no pong");
      // a dead link may take long to report close: move on now
      const ws = this.ws;
      if (ws?.onclose)
        ws.onclose(new CloseEvent("close", { code: 1006, reason: "no answer from server" }));
      return;
    }
    this.awaitingPong = true;
    this.send({ _ct: "ping", t: Date.now() });
    this.pingTimer = setTimeout(() => this.probe(), this.pingTimeoutMs);
  }
}
