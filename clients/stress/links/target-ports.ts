import type { TransportTarget } from "./link.js";

/** Every port of a target: `ports` when given, else `port` alone. */
export function targetPorts(target: TransportTarget): readonly number[] {
  return target.ports !== undefined && target.ports.length > 0 ? target.ports : [target.port];
}

/**
 * Which of `servers` servers user `userIndex` (in creation order) connects to: round-robin. The
 * seed and ceiling scenarios put consecutive users in one room (`roomSize` per room), so with at
 * least `roomSize` servers the members of every room are on different servers, and every
 * delivery but the sender's own echo crosses between them.
 */
export function serverOfUser(userIndex: number, servers: number): number {
  return userIndex % servers;
}
