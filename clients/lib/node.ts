// The client library for Node: the browser-safe surface plus the transports that need node:net
// or the `ws` package.
import { type ServerAddress } from "./address.js";
import { nodeWebSocketTransport } from "./node-websocket.js";
import { tcpTransport } from "./tcp-transport.js";
import type { Transport } from "./transport.js";

export * from "./index.js";
export * from "./tcp-transport.js";
export * from "./node-websocket.js";

/** The transport that reaches `address` (see parseAddress). */
export function transportFor(address: ServerAddress, connectTimeoutMs?: number): Transport {
  const timeout = connectTimeoutMs !== undefined ? { connectTimeoutMs } : {};
  switch (address.kind) {
    case "tcp":
      return tcpTransport({ host: address.host, port: address.port, framing: "line", ...timeout });
    case "lp":
      return tcpTransport({
        host: address.host,
        port: address.port,
        framing: "length-prefixed",
        ...timeout,
      });
    case "ws":
      return nodeWebSocketTransport(address.url, connectTimeoutMs);
  }
}
