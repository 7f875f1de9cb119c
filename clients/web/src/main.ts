// The web client's entry point (bundled by scripts/build-web.mjs): it connects to the server that
// served this page (its WebSocket endpoint, at /ws), or to the servers the page lists (servers.ts).
import { failoverTransport } from "../../lib/failover-transport.js";
import { websocketTransport } from "../../lib/websocket-transport.js";
import { SERVERS_META, serverUrls } from "./servers.js";
import { WebClient } from "./web-client.js";

const listed = document.querySelector<HTMLMetaElement>(`meta[name="${SERVERS_META}"]`)?.content;
const urls = serverUrls(listed, new URL(location.href));
new WebClient(() => failoverTransport(urls.map((url) => websocketTransport({ url }))));
