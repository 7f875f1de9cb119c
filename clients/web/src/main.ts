// The web client's entry point (bundled by scripts/build-web.mjs): the server that served this
// page also serves the WebSocket endpoint, at /ws.
import { websocketTransport } from "../../lib/websocket-transport.js";
import { WebClient } from "./web-client.js";

const scheme = location.protocol === "https:" ? "wss:" : "ws:";
new WebClient(() => websocketTransport({ url: `${scheme}//${location.host}/ws` }));
