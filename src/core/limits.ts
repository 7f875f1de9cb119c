/**
 * Server limits. Every one is configurable (see src/config.ts and the README's table); the
 * defaults below are what `npm start` runs with.
 */
export interface Limits {
  /** connections held at once over all transports; beyond it new ones are refused (SERVER_FULL) */
  maxConnections: number;
  /**
   * connections from one IP address at once; 0 disables. Addresses in `perIpExempt` (loopback by
   * default) are not limited.
   */
  maxConnectionsPerIp: number;
  /** new connections per second from one IP address (token bucket rate); 0 disables */
  connectRatePerIp: number;
  /** new connections one IP address may open at once before `connectRatePerIp` applies */
  connectBurstPerIp: number;
  /**
   * Addresses the per-IP limits do not apply to: CIDR blocks (`10.0.0.0/8`, `::1/128`) or single
   * addresses. Default loopback, so local tools, tests and a reverse proxy on the same host work.
   */
  perIpExempt: readonly string[];
  /** longest line or frame in bytes, terminator excluded; longer is an error, then close */
  maxLineBytes: number;
  /**
   * A line or frame that was started must be complete within this many ms, else FRAME_TIMEOUT
   * (slowloris: a peer trickling half a line holds a slot and a buffer). 0 disables.
   */
  frameTimeoutMs: number;
  /** a connection that sent no command this long after connecting is closed (IDLE_TIMEOUT); 0 = never */
  firstCommandTimeoutMs: number;
  /**
   * A connection in no room that sent nothing this long is closed (IDLE_TIMEOUT), in ms; 0 = never.
   * A member of a room is never closed for being quiet: readers may only read. Dead peers are
   * found by TCP keepalive (`keepAliveMs`), WebSocket pings and the write deadline instead.
   */
  idleTimeoutMs: number;
  /**
   * TCP keepalive: a TCP connection silent this long is probed by the kernel (10 probes, 1 s
   * apart), and cut if the peer does not answer, in ms; 0 disables.
   */
  keepAliveMs: number;
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
  /**
   * The outbound high-water mark: bytes queued for one connection and not yet taken by the kernel.
   * Above it the connection is congested: the sessions whose messages feed it stop being read
   * (TCP pushes back on them) until it drains below the mark. Nobody is cut for crossing it.
   */
  maxOutboundBytes: number;
  /**
   * A congested connection whose peer has taken none of its queue for this long is cut
   * (SLOW_CONSUMER), in ms. Any progress restarts the clock: slow readers are kept.
   */
  writeDeadlineMs: number;
  /** Past this many queued bytes a connection is cut at once (SLOW_CONSUMER): the memory bound. */
  maxOutboundHardBytes: number;
  /** on shutdown, time allowed to flush queued output before connections are cut, in ms */
  shutdownGraceMs: number;
  /** largest history page (`history.l`) and join backlog (`join_room.b`), messages */
  historyPageMax: number;
}

export const LOOPBACK: readonly string[] = Object.freeze(["127.0.0.0/8", "::1/128"]);

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxConnections: 10_000,
  // Generous enough for an office or campus behind one NAT address; one host can still not take
  // more than a fortieth of the default slots.
  maxConnectionsPerIp: 256,
  connectRatePerIp: 20,
  connectBurstPerIp: 100,
  perIpExempt: LOOPBACK,
  maxLineBytes: 64 * 1024,
  // A 64 KiB line takes under 10 s even at 64 kbit/s.
  frameTimeoutMs: 15_000,
  firstCommandTimeoutMs: 60_000,
  idleTimeoutMs: 30 * 60 * 1000,
  keepAliveMs: 60_000,
  maxRoomsPerSession: 50,
  maxMessageChars: 4096,
  maxNameChars: 32,
  // The seed's published load is 200 msg/s per user: let it through untouched, with headroom.
  ratePerSec: 500,
  rateBurst: 1000,
  floodDisconnectMs: 30_000,
  maxOutboundBytes: 1024 * 1024,
  // While a member is congested its room's senders wait, so this bounds how long one reader
  // that stopped can hold a busy room back; the clock runs from the last time it read anything,
  // so one that stopped long ago is cut as soon as it congests. A reader cut this way loses
  // nothing it cannot get back: clients resume from history after reconnecting.
  writeDeadlineMs: 5_000,
  maxOutboundHardBytes: 8 * 1024 * 1024,
  shutdownGraceMs: 10_000,
  historyPageMax: 200,
});
