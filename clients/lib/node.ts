// The client library for Node: the browser-safe surface plus the transports that need node:net
// or the `ws` package.
import { type ServerAddress } from "./address.js";
import { nodeWebSocketTransport } from "./node-websocket.js";
import { type ClientTlsOptions, tcpTransport } from "./tcp-transport.js";
import type { Transport } from "./transport.js";

export * from "./index.js";
export * from "./tcp-transport.js";
export * from "./node-websocket.js";

/**
 * The transport that reaches `address` (see parseAddress). `tls` (e.g. a private CA) applies to
 * the TLS addresses: tls://, lps:// and wss://.
 */
export function transportFor(
  address: ServerAddress,
  connectTimeoutMs?: number,
  tls: ClientTlsOptions = {},
): Transport {
  const timeout = connectTimeoutMs !== undefined ? { connectTimeoutMs } : {};
  switch (address.kind) {
    case "tcp":
    case "lp":
      return tcpTransport({
        host: address.host,
        port: address.port,
        framing: address.kind === "tcp" ? "line" : "length-prefixed",
        ...timeout,
        ...(address.tls === true && { tls }),
      });
    case "ws":
      return nodeWebSocketTransport(address.url, connectTimeoutMs, tls);
  }
}
