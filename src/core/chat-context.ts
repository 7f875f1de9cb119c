import type { ClusterLog } from "./cluster-log.js";
import type { ClusterPresence } from "./cluster-presence.js";
import type { RecentIds } from "./dedup.js";
import type { Limits } from "./limits.js";
import type { Membership } from "./membership.js";
import type { MessageLog } from "./message-log.js";
import type { Clock, Logger, Metrics } from "./ports.js";
import type { RoomEvents } from "./room-events.js";
import type { RoomManager } from "./room-manager.js";
import type { UserRegistry } from "./user-registry.js";

/**
 * What the chat server's parts share (ChatServer builds it; MessageService, RoomService and
 * NameService work on it): the rooms, who is in them, their streams, and, on a cluster node, the
 * cluster's log and presence.
 */
export interface ChatContext {
  readonly limits: Limits;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly rooms: RoomManager;
  readonly membership: Membership;
  readonly users: UserRegistry;
  readonly recentIds: RecentIds;
  readonly log: MessageLog;
  /** the cluster side of the log, on a cluster node */
  readonly cluster: ClusterLog | undefined;
  /** the other nodes' members and the cluster's names, on a cluster node */
  readonly presence: ClusterPresence | undefined;
  /** what bridges see of the rooms (this node's own events only) */
  readonly events: RoomEvents;
}
