import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Logger } from "../core/index.js";
import { silentLogger } from "../core/index.js";
import type { MetricsExposition } from "../metrics/prometheus-metrics.js";
import type { TlsListeners } from "../transports/tls-listeners.js";
import { StaticFiles } from "./static-files.js";
import { pagePolicy, withServersMeta } from "./web-servers.js";

export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port */
  port: number;
  /** folder of the built web client, served at `/` */
  webRoot: string;
  /**
   * WebSocket URLs the web client connects to, in turn (a cluster's nodes: --web-servers). Empty
   * (the default): the page's own server at /ws
   */
  webServers?: readonly string[];
  /**
   * what /readyz reports: ready after bootstrap while the message store answers, not ready again
   * once shutdown begins; `detail` is the body (one `check: state` per line)
   */
  readiness(): { ready: boolean; detail: string };
  /** source of `GET /metrics`; absent: 404 */
  metrics?: MetricsExposition;
  /** answers everything under /admin (the admin API: --admin-token); absent: 404 */
  admin?: { handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> };
  /** HTTPS (and so WSS) instead of HTTP on this port */
  tls?: TlsListeners;
  logger?: Logger;
}

/** A whole request must arrive within this, ms (slow-loris bound); WebSocket upgrades are apart. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Parley's HTTP side: the web client at `/`, `GET /healthz` (the process is alive), `GET /readyz`
 * (ready for chat: 503 before bootstrap completes and during shutdown) and `GET /metrics`
 * (Prometheus text). The WebSocket transport attaches to `server`'s upgrade requests.
 */
export class HttpServer {
  readonly server: Server;
  private readonly files: StaticFiles;
  private readonly logger: Logger;
  private readonly webServers: readonly string[];
  private readonly pageHeaders: Readonly<Record<string, string>>;

  constructor(private readonly options: HttpServerOptions) {
    this.files = new StaticFiles(options.webRoot);
    this.webServers = options.webServers ?? [];
    this.pageHeaders = {
      "content-security-policy": pagePolicy(this.webServers),
      "referrer-policy": "no-referrer",
    };
    this.logger = options.logger ?? silentLogger;
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((err: unknown) => {
        this.logger.error({ err: String(err), url: req.url }, "http request failed");
        if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "internal error\n");
        else res.destroy();
      });
    };
    const tls = options.tls;
    if (tls) {
      const server = createHttpsServer(
        { ...tls.serverOptions(), requestTimeout: REQUEST_TIMEOUT_MS },
        onRequest,
      );
      tls.register(server, "https");
      this.server = server;
    } else {
      this.server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS }, onRequest);
    }
    this.server.on("clientError", (_err, socket) => {
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
      else socket.destroy();
    });
    this.server.on("error", (err) => this.logger.error({ err: String(err) }, "http server error"));
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

  /** Stops listening and closes every HTTP connection (upgraded WebSockets are not among them). */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?", 1)[0]!;
    if (this.options.admin !== undefined && (path === "/admin" || path.startsWith("/admin/"))) {
      return this.options.admin.handle(req, res, path);
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return send(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
    }
    switch (path) {
      case "/healthz":
        return send(res, 200, "text/plain; charset=utf-8", "ok\n");
      case "/readyz": {
        const r = this.options.readiness();
        return send(
          res,
          r.ready ? 200 : 503,
          "text/plain; charset=utf-8",
          `${r.ready ? "ready" : "not ready"}\n${r.detail}`,
        );
      }
      case "/metrics": {
        const m = this.options.metrics;
        if (!m) return send(res, 404, "text/plain; charset=utf-8", "metrics are off\n");
        return send(res, 200, m.contentType, await m.render());
      }
    }
    const file = await this.files.get(path);
    if (file) {
      if (!file.contentType.startsWith("text/html")) {
        return send(res, 200, file.contentType, file.body);
      }
      for (const [k, v] of Object.entries(this.pageHeaders)) res.setHeader(k, v);
      const page =
        this.webServers.length === 0
          ? file.body
          : withServersMeta(file.body.toString("utf8"), this.webServers);
      return send(res, 200, file.contentType, page);
    }
    if (path === "/") {
      return send(
        res,
        404,
        "text/plain; charset=utf-8",
        "web client not built: run npm run build\n",
      );
    }
    return send(res, 404, "text/plain; charset=utf-8", "not found\n");
  }
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.statusCode = status;
  res.setHeader("content-type", type);
  res.setHeader("content-length", Buffer.byteLength(body));
  res.setHeader("cache-control", "no-cache");
  res.setHeader("x-content-type-options", "nosniff");
  res.end(res.req.method === "HEAD" ? undefined : body);
}
