import type { LinkFactory, TransportTarget } from "./link.js";
import { TcpLink } from "./tcp-link.js";
import { WsLink } from "./ws-link.js";

export * from "./link.js";
export * from "./target-ports.js";

/** A factory of links to `target`; async because Socket.IO's client is loaded on demand. */
export async function linkFactory(target: TransportTarget): Promise<LinkFactory> {
  switch (target.kind) {
    case "tcp":
      return (sink, options) => new TcpLink(target.host, target.port, sink, options, target.tls);
    case "ws": {
      const scheme = target.tls ? "wss" : "ws";
      const url = `${scheme}://${hostPart(target.host)}:${target.port}${target.path}`;
      return (sink, options) => new WsLink(url, sink, options, target.tls);
    }
    case "socketio": {
      if (target.tls) throw new Error("--tls is for the tcp and ws transports");
      const { SocketIoLink, loadSocketIo } = await import("./socketio-link.js");
      const io = await loadSocketIo();
      const url = `http://${hostPart(target.host)}:${target.port}`;
      return (sink, options) => new SocketIoLink(io, url, sink, options);
    }
  }
}

function hostPart(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
