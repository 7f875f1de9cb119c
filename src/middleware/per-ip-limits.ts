import { BlockList, isIPv4, isIPv6 } from "node:net";
import type { Clock, ConnectionMiddleware } from "../core/index.js";
import { ConnectionRefused, systemClock, TokenBucket } from "../core/index.js";
import { DisconnectCode } from "../protocol/index.js";

export interface PerIpLimitOptions {
  /** connections open at once from one address; 0 = no limit */
  maxConnections: number;
  /** new connections per second from one address; 0 = no limit */
  connectRatePerSec: number;
  /** new connections one address may open at once before the rate applies */
  connectBurst: number;
  /** CIDR blocks or addresses the limits do not apply to (see Limits.perIpExempt) */
  exempt: readonly string[];
  clock?: Clock;
}

/**
 * Rate buckets are dropped once full again (their address is back to a clean slate). They are
 * swept when the map has doubled since the last sweep, so memory follows the number of addresses
 * that connected within about `connectBurst / connectRatePerSec` seconds.
 */
const MIN_SWEEP_SIZE = 1024;

/**
 * Per-address connection limits, so one host cannot take every slot: at most `maxConnections`
 * open at once and `connectRatePerSec` new ones per second (bursts of `connectBurst`). Refusals
 * are SERVER_FULL (clients back off and retry) with the reason `per_ip_limit` or `per_ip_rate`.
 */
export function perIpLimitMiddleware(options: PerIpLimitOptions): ConnectionMiddleware {
  const clock = options.clock ?? systemClock;
  const exempt = addressSet(options.exempt);
  const open = new Map<string, number>();
  const buckets = new Map<string, TokenBucket>();
  let sweepAt = MIN_SWEEP_SIZE;
  const counted = new WeakSet<object>();

  const takeConnectToken = (ip: string): boolean => {
    if (options.connectRatePerSec <= 0) return true;
    const now = clock.now();
    let bucket = buckets.get(ip);
    if (bucket === undefined) {
      if (buckets.size >= sweepAt) {
        for (const [k, b] of buckets) if (b.isFull(now)) buckets.delete(k);
        sweepAt = Math.max(MIN_SWEEP_SIZE, buckets.size * 2);
      }
      bucket = new TokenBucket(options.connectRatePerSec, options.connectBurst, now);
      buckets.set(ip, bucket);
    }
    return bucket.take(now) === 0;
  };

  return {
    name: "per-ip-limit",
    onOpen(ctx) {
      const ip = canonicalAddress(ctx.remoteAddress);
      if (exempt(ip)) return;
      if (!takeConnectToken(ip)) {
        throw new ConnectionRefused(
          DisconnectCode.SERVER_FULL,
          `too many new connections from ${ip} (limit ${options.connectRatePerSec}/s)`,
          "per_ip_rate",
        );
      }
      const n = open.get(ip) ?? 0;
      if (options.maxConnections > 0 && n >= options.maxConnections) {
        throw new ConnectionRefused(
          DisconnectCode.SERVER_FULL,
          `too many connections from ${ip} (limit ${options.maxConnections})`,
          "per_ip_limit",
        );
      }
      open.set(ip, n + 1);
      counted.add(ctx);
    },
    onClose(ctx) {
      if (!counted.has(ctx)) return;
      const ip = canonicalAddress(ctx.remoteAddress);
      const n = (open.get(ip) ?? 1) - 1;
      if (n <= 0) open.delete(ip);
      else open.set(ip, n);
    },
  };
}

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, from a dual-stack listener) as plain IPv4. */
function canonicalAddress(address: string): string {
  return address.startsWith("::ffff:") && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** A matcher for CIDR blocks and single addresses; throws on a malformed entry. */
export function addressSet(entries: readonly string[]): (address: string) => boolean {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", bits] = entry.split("/");
    const family = isIPv4(address) ? "ipv4" : isIPv6(address) ? "ipv6" : undefined;
    const prefix = bits === undefined ? (family === "ipv4" ? 32 : 128) : Number(bits);
    const max = family === "ipv4" ? 32 : 128;
    if (family === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
      throw new Error(`"${entry}" is not an IP address or CIDR block`);
    }
    list.addSubnet(address, prefix, family);
  }
  return (address) => {
    const family = isIPv4(address) ? "ipv4" : isIPv6(address) ? "ipv6" : undefined;
    return family !== undefined && list.check(address, family);
  };
}
