/** Node-only: WebSocket links through the `ws` package (Node 20 has no global WebSocket). */
import { WebSocket } from "ws";
import type { ClientTlsOptions } from "./tcp-transport.js";
import type { Transport } from "./transport.js";
import { type WebSocketConstructor, websocketTransport } from "./websocket-transport.js";

/** `tls`: for wss:// URLs, the CAs to trust instead of Node's own (see ClientTlsOptions). */
export function nodeWebSocketTransport(
  url: string,
  connectTimeoutMs?: number,
  tls?: ClientTlsOptions,
): Transport {
  const options = {
    ...(tls?.ca !== undefined && { ca: tls.ca }),
    ...(tls?.servername !== undefined && { servername: tls.servername }),
  };
  const Ctor =
    Object.keys(options).length === 0
      ? WebSocket
      : class extends WebSocket {
          constructor(target: string) {
            super(target, options);
          }
        };
  return websocketTransport({
    url,
    // ws's class has the browser API this transport uses; its typings are wider than ours.
    WebSocket: Ctor as unknown as WebSocketConstructor,
    ...(connectTimeoutMs !== undefined && { connectTimeoutMs }),
  });
}
