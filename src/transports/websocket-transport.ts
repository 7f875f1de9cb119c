import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { ChatServer, Clock, Logger } from "../core/index.js";
import { silentLogger, systemClock } from "../core/index.js";
import { WebSocketConnection } from "./websocket-connection.js";

/** How far past the message limit ws still reads a message, so it can get an error event. */
const PAYLOAD_HARD_CAP_FACTOR = 4;

export interface WebSocketTransportOptions {
  /** the HTTP server whose upgrade requests this transport takes */
  server: Server;
  /** request path of the WebSocket endpoint; default `/ws` */
  path?: string;
  /**
   * largest message handled, bytes: a larger one gets an `error` FRAME_TOO_LARGE and a close, as
   * on the TCP transports. ws itself reads messages up to PAYLOAD_HARD_CAP_FACTOR times this (at
   * least 1 MiB) so that it can be answered; beyond that ws closes with 1009 without reading it.
   */
  maxPayloadBytes: number;
  /** ping interval, ms; a peer that has not answered the previous ping is cut. 0 disables */
  heartbeatMs: number;
  /** permessage-deflate (default off: zlib state costs ~300 KiB per connection) */
  deflate?: boolean;
  logger?: Logger;
  clock?: Clock;
}

/**
 * WebSocket (ws library) on an existing HTTP server: upgrades on `path` become core Connections
 * handed to the chat server with their request headers and URL (for auth middleware: a token). Owns the
 * ping/pong heartbeat of its connections.
 */
export class WebSocketTransport {
  private readonly wss: WebSocketServer;
  /** open connections */
  private readonly conns = new Set<WebSocketConnection>();
  /**
   * Called by each connection once closed: one function for all of them (a closure and `once`
   * wrapper per connection cost ~250 bytes of every idle connection, a second "close" listener
   * on the WebSocket ~60).
   */
  private readonly untrack: (conn: WebSocketConnection) => void;
  private readonly path: string;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private accepting = false;
  private heartbeatTimer: unknown;
  /** set while drain() waits for the last connection to close */
  private onEmpty: (() => void) | undefined;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void =>
    this.upgrade(req, socket, head);

  constructor(
    private readonly chat: ChatServer,
    private readonly options: WebSocketTransportOptions,
  ) {
    this.path = options.path ?? "/ws";
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    const conns = this.conns;
    const emptied = (): void => this.onEmpty?.();
    this.untrack = (conn) => {
      conns.delete(conn);
      if (conns.size === 0) emptied();
    };
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: Math.max(options.maxPayloadBytes * PAYLOAD_HARD_CAP_FACTOR, 1 << 20),
      perMessageDeflate: options.deflate ?? false,
      clientTracking: false,
    });
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  start(): void {
    this.accepting = true;
    this.options.server.on("upgrade", this.onUpgrade);
    this.scheduleHeartbeat();
  }

  /** Refuses new upgrades (503); existing connections go on. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Resolves once every connection has closed; those still open after `deadlineMs` are cut. */
  async drain(deadlineMs: number): Promise<void> {
    this.stopAccepting();
    if (this.heartbeatTimer !== undefined) this.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    if (this.conns.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          for (const c of this.conns) c.terminate();
        }, deadlineMs);
        timer.unref();
        this.onEmpty = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    // The upgrade listener stays: until the HTTP server closes, upgrades get a 503.
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A shared function, not a closure: one made here would hold this upgrade's request (its
    // headers, raw headers and parser state, ~2 KiB) for as long as the connection is open.
    // Until the handshake is done: then ws has its own (see onConnection).
    socket.on("error", destroySelf);
    const path = (req.url ?? "/").split("?", 1)[0];
    if (path !== this.path) return rejectUpgrade(socket, 404, "Not Found");
    if (!this.accepting) return rejectUpgrade(socket, 503, "Service Unavailable");
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req, socket));
  }

  private onConnection(ws: WebSocket, req: IncomingMessage, socket: Duplex): void {
    // ws has its own "error" listener on the socket now, which destroys it as destroySelf would:
    // a second listener would cost the socket a listener array (~60 bytes) for its whole life.
    socket.off("error", destroySelf);
    const conn = new WebSocketConnection(
      ws,
      socket,
      req.socket.remoteAddress ?? "unknown",
      this.options.maxPayloadBytes,
      this.untrack,
    );
    this.conns.add(conn);
    this.chat.accept(conn, req.headers, req.url).then(
      (session) => {
        if (session) conn.attach(session);
      },
      (err: unknown) => {
        this.logger.error({ err: String(err) }, "accept failed");
        ws.terminate();
      },
    );
  }

  private scheduleHeartbeat(): void {
    const every = this.options.heartbeatMs;
    if (every <= 0 || !this.accepting) return;
    this.heartbeatTimer = this.clock.setTimeout(() => {
      let cut = 0;
      for (const c of this.conns) if (!c.heartbeat(every)) cut++;
      if (cut > 0) this.logger.info({ cut, intervalMs: every }, "websocket heartbeat timeout");
      this.scheduleHeartbeat();
    }, every);
  }
}

/** An upgraded socket's "error" listener: the socket is `this` (ws reports errors on its own). */
function destroySelf(this: Duplex): void {
  this.destroy();
}

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${text.length + 1}\r\n\r\n${text}\n`,
  );
}
