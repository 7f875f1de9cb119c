/**
 * The servers the web client connects to when the operator lists them (`--web-servers`): the
 * nodes of a cluster, tried in turn. The page reads them from a meta tag that the HTTP server
 * writes into index.html (clients/web/src/servers.ts), and its Content-Security-Policy then lets
 * it open WebSockets to those servers only.
 */

/** The meta tag's name (clients/web/src/servers.ts reads it). */
export const SERVERS_META = "parley-servers";

/** A list the setting cannot take. */
export class WebServersError extends Error {
  readonly code = "WEB_SERVERS_INVALID";
}

// What a host may be for its origin to go into a CSP header and an HTML attribute unescaped:
// a DNS name or IPv4 address (the URL parser lower-cases and punycodes), or an IPv6 in brackets.
const SAFE_HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d+)?$/;

/**
 * Reads a comma-separated list of absolute ws:// or wss:// URLs (without credentials, query or
 * fragment); `none` or nothing is the empty list. Returns them normalised.
 */
export function parseWebServers(raw: string): string[] {
  const items = raw
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "");
  if (items.length === 1 && items[0] === "none") return [];
  return items.map((item) => {
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      throw new WebServersError(`"${item}" is not a URL`);
    }
    if (url.protocol !== "ws:" && url.protocol !== "wss:") {
      throw new WebServersError(`"${item}" is not a ws:// or wss:// URL`);
    }
    if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
      throw new WebServersError(`"${item}": no credentials, query or fragment`);
    }
    if (!SAFE_HOST.test(url.host)) throw new WebServersError(`"${item}": not a host name`);
    return url.toString();
  });
}

/**
 * The page's Content-Security-Policy: it loads only its own scripts and styles; it may open
 * WebSockets to the listed servers only, or, with none listed, to any (its own at /ws by
 * default, under whatever name it was reached).
 */
export function pagePolicy(servers: readonly string[]): string {
  const origins = servers.map((s) => {
    const url = new URL(s);
    return `${url.protocol}//${url.host}`;
  });
  const sockets = origins.length === 0 ? "ws: wss:" : [...new Set(origins)].join(" ");
  return (
    `default-src 'self'; connect-src 'self' ${sockets}; img-src 'self' data:; ` +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
  );
}

/** `html` with the servers' meta tag: the one it has (emptied by default) or a new one. */
export function withServersMeta(html: string, servers: readonly string[]): string {
  const tag = `<meta name="${SERVERS_META}" content="${escapeAttribute(servers.join(","))}" />`;
  const existing = new RegExp(`<meta\\s+name="${SERVERS_META}"[^>]*>`, "i");
  if (existing.test(html)) return html.replace(existing, () => tag);
  return html.replace(/<head[^>]*>/i, (head) => `${head}\n    ${tag}`);
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}
