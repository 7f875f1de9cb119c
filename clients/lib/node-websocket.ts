/** Node-only: WebSocket links through the `ws` package (Node 20 has no global WebSocket). */
import { WebSocket } from "ws";
import type { Transport } from "./transport.js";
import { type WebSocketConstructor, websocketTransport } from "./websocket-transport.js";

export function nodeWebSocketTransport(url: string, connectTimeoutMs?: number): Transport {
  return websocketTransport({
    url,
    // ws's class has the browser API this transport uses; its typings are wider than ours.
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    ...(connectTimeoutMs !== undefined && { connectTimeoutMs }),
  });
}
