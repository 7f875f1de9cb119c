import { ClientError, ClientErrorCode } from "./errors.js";

/** Where a server is and how to speak to it. Browser-safe (parsing only). */
export type ServerAddress =
  | { kind: "tcp"; host: string; port: number; tls?: true }
  | { kind: "lp"; host: string; port: number; tls?: true }
  | { kind: "ws"; url: string };

/** Default ports: line-delimited TCP 8080 (the original's), length-prefixed 8082. */
export const DEFAULT_TCP_PORT = 8080;
export const DEFAULT_LP_PORT = 8082;

/**
 * Parses what a person types on the connect page:
 * `host:port` or `tcp://host:port` (line-delimited TCP, as the original), `lp://host:port`
 * (length-prefixed TCP), `ws://host:port/path` or `wss://...` (WebSocket); `tls://host:port`
 * and `lps://host:port` are line-delimited and length-prefixed TCP over TLS. IPv6 hosts go in
 * brackets: `[::1]:8080`. A missing port is the transport's default.
 */
export function parseAddress(text: string): ServerAddress {
  const input = text.trim();
  if (/^wss?:\/\//i.test(input)) {
    try {
      return { kind: "ws", url: new URL(input).toString() };
    } catch {
      throw bad(input, "not a valid WebSocket URL");
    }
  }
  const m = /^(?:(tcp|lp|tls|lps):\/\/)?(\[[^\]]+\]|[^:/\s]+)(?::(\d+))?\/?$/i.exec(input);
  if (m === null) throw bad(input, "expected host:port, lp://host:port or ws://host:port/path");
  const scheme = m[1]?.toLowerCase() ?? "tcp";
  const kind = scheme === "tcp" || scheme === "tls" ? "tcp" : "lp";
  const tls = scheme === "tls" || scheme === "lps";
  const host = m[2]!.replace(/^\[(.*)\]$/, "$1");
  const port = m[3] === undefined ? (kind === "tcp" ? DEFAULT_TCP_PORT : DEFAULT_LP_PORT) : +m[3];
  if (!(port >= 1 && port <= 65535)) throw bad(input, "port must be 1-65535");
  return tls ? { kind, host, port, tls: true } : { kind, host, port };
}

/**
 * Parses a list of addresses, separated by commas and/or spaces: the servers of a cluster, in
 * the order to try them (see failoverTransport). Throws BAD_ADDRESS on an empty list or on the
 * first address parseAddress refuses.
 */
export function parseAddressList(text: string): ServerAddress[] {
  const parts = text.split(/[\s,]+/).filter((p) => p !== "");
  if (parts.length === 0) throw bad(text.trim(), "no server address");
  return parts.map(parseAddress);
}

function bad(input: string, why: string): ClientError {
  return new ClientError(ClientErrorCode.BAD_ADDRESS, `"${input}": ${why}`);
}

export function formatAddress(a: ServerAddress): string {
  if (a.kind === "ws") return a.url;
  const host = a.host.includes(":") ? `[${a.host}]` : a.host;
  const scheme = a.tls === true ? (a.kind === "tcp" ? "tls" : "lps") : a.kind;
  return `${scheme}://${host}:${a.port}`;
}
