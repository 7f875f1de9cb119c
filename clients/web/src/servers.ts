/**
 * Which servers the page connects to. By default the one that served it (its origin's /ws).
 * An operator running a cluster lists its nodes in `<meta name="parley-servers" content="...">`
 * (filled in by the server's --web-servers setting): WebSocket URLs, separated by commas, tried
 * in turn (failoverTransport), the page's own server first when it is among them. There is no
 * query parameter for this on purpose: a link could then point the page, under this site's
 * address, at someone else's server.
 */
import { parseAddressList } from "../../lib/address.js";

export const SERVERS_META = "parley-servers";

/** The WebSocket URLs to use, in order; `page` is the page's location. */
export function serverUrls(listed: string | null | undefined, page: URL): string[] {
  const own = `${page.protocol === "https:" ? "wss:" : "ws:"}//${page.host}/ws`;
  let urls: string[] = [];
  try {
    urls = parseAddressList(listed ?? "").flatMap((a) => (a.kind === "ws" ? [a.url] : []));
  } catch (err) {
    // a list this page cannot read: its own server, which always works
    if (listed?.trim())
      console.warn(`parley: ignoring <meta name="${SERVERS_META}">: ${String(err)}`);
  }
  if (urls.length === 0) return [own];
  const at = urls.indexOf(new URL(own).toString());
  return at <= 0 ? urls : [...urls.slice(at), ...urls.slice(0, at)];
}
