import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import type { ChatServer, Logger } from "../core/index.js";
import { silentLogger } from "../core/index.js";
import type { Framing } from "./framing.js";
import { TcpConnection } from "./tcp-connection.js";
import type { TlsListeners } from "./tls-listeners.js";

export interface TcpTransportOptions {
  host: string;
  /** 0 picks a free port */
  port: number;
  framing: Framing;
  /** largest line or frame accepted, in bytes */
  maxFrameBytes: number;
  /** TCP keepalive idle time, ms (then 10 probes 1 s apart find a dead peer); 0 disables */
  keepAliveMs: number;
  /**
   * TLS on this port (instead of plain TCP): a socket reaches the chat server once its
   * handshake is done, and is then the same Connection (framing, flow control, limits)
   */
  tls?: TlsListeners;
  logger?: Logger;
}

/** Listens on TCP and hands each socket to the chat server as a Connection. */
export class TcpTransport {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly logger: Logger;
  /**
   * A socket's "close" listener, called with the socket as `this`: one function for all of them
   * (a closure or a `once` wrapper per socket cost ~250 bytes of every idle connection).
   */
  private readonly untrack: (this: Socket) => void;

  constructor(
    private readonly chat: ChatServer,
    private readonly options: TcpTransportOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
    const sockets = this.sockets;
    this.untrack = function (this: Socket) {
      sockets.delete(this);
    };
    const tls = options.tls;
    if (tls) {
      const server = createTlsServer({ ...tls.serverOptions(), noDelay: true }, (socket) =>
        this.onSocket(socket),
      );
      tls.register(server, options.framing.kind);
      this.server = server;
    } else {
      this.server = createServer({ noDelay: true }, (socket) => this.onSocket(socket));
    }
    this.server.on("error", (err) => this.logger.error({ err: String(err) }, "tcp listener error"));
  }

  get kind(): Framing["kind"] {
    return this.options.framing.kind;
  }

  /** Binds and listens; resolves with the bound address. */
  start(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once("error", onError);
      this.server.listen({ host: this.options.host, port: this.options.port }, () => {
        this.server.off("error", onError);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  get address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  /** Stops accepting new connections (existing ones go on). */
  stopAccepting(): void {
    if (this.server.listening) this.server.close();
  }

  /**
   * Resolves once every socket has closed; sockets still open after `deadlineMs` are cut.
   */
  async drain(deadlineMs: number): Promise<void> {
    this.stopAccepting();
    if (this.sockets.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const s of this.sockets) s.destroy();
      }, deadlineMs);
      timer.unref();
      const check = (): void => {
        if (this.sockets.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      for (const s of this.sockets) s.once("close", () => setImmediate(check));
    });
  }

  private onSocket(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", this.untrack);
    const { framing, maxFrameBytes, keepAliveMs } = this.options;
    const conn = new TcpConnection(socket, framing, maxFrameBytes, keepAliveMs);
    this.chat.accept(conn).then(
      (session) => {
        if (session) conn.attach(session);
      },
      (err: unknown) => {
        this.logger.error({ err: String(err) }, "accept failed");
        socket.destroy();
      },
    );
  }
}
