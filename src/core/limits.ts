/**
 * Server limits. Every one is configurable (see src/config.ts and the README's table); the
 * defaults below are what `npm start` runs with.
 */
export interface Limits {
  /** connections held at once over all transports; beyond it new ones are refused (SERVER_FULL) */
  maxConnections: number;
  /** connections from one IP address at once; 0 disables the per-IP limit */
  maxConnectionsPerIp: number;
  /** longest line or frame in bytes, terminator excluded; longer is an error, then close */
  maxLineBytes: number;
  /** close a connection that sent nothing for this long, in ms; 0 disables */
  idleTimeoutMs: number;
  /** rooms one session may be in at once */
  maxRoomsPerSession: number;
  /** longest message text in characters (UTF-16 code units) */
  maxMessageChars: number;
  /** longest display name in characters */
  maxNameChars: number;
  /** sustained commands per second per session (token bucket refill rate) */
  ratePerSec: number;
  /** commands a session may send at once before the rate applies (token bucket size) */
  rateBurst: number;
  /**
   * A session held back by the rate limit for this long without a break is flooding and is
   * disconnected (FLOODING), in ms. 0 disables (a flooder is held back forever, never dropped).
   */
  floodDisconnectMs: number;
  /** bytes queued for one connection and not yet taken by the kernel; beyond it: SLOW_CONSUMER */
  maxOutboundBytes: number;
  /** on shutdown, time allowed to flush queued output before connections are cut, in ms */
  shutdownGraceMs: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxConnections: 10_000,
  maxConnectionsPerIp: 0,
  maxLineBytes: 64 * 1024,
  idleTimeoutMs: 30 * 60 * 1000,
  maxRoomsPerSession: 50,
  maxMessageChars: 4096,
  maxNameChars: 32,
  // The seed's published load is 200 msg/s per user: let it through untouched, with headroom.
  ratePerSec: 500,
  rateBurst: 1000,
  floodDisconnectMs: 30_000,
  maxOutboundBytes: 1024 * 1024,
  shutdownGraceMs: 10_000,
});
