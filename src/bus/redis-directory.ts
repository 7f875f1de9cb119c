import { createClient } from "redis";
import type { Directory, Logger, PresenceEntry } from "../core/ports.js";
import { silentLogger } from "../core/ports.js";
import { describeRedisUrl } from "./redis-bus.js";

export interface RedisDirectoryOptions {
  url: string;
  nodeId: string;
  /** key prefix (default `parley`), as the bus's */
  prefix?: string;
  /** a node whose heartbeat is older than this is dead, ms (default 10,000) */
  ttlMs?: number;
  logger?: Logger;
}

// Claims every key of a name for its owner, or none when one is held by someone else.
// KEYS: names hash, the node's names set. ARGV: owner, key...
const CLAIM = `
for i = 2, #ARGV do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v and v ~= ARGV[1] then return 0 end
end
for i = 2, #ARGV do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[1])
  redis.call('SADD', KEYS[2], ARGV[i])
end
return 1`;

// Releases the keys the owner holds. KEYS: names hash, the node's names set. ARGV: owner, key...
const RELEASE = `
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    redis.call('SREM', KEYS[2], ARGV[i])
  end
end
return 1`;

// Removes a node's members from one room's hash; returns field, name pairs removed (by this call
// only: HDEL answers 1 once). KEYS: the room's members hash. ARGV: "NODE/".
const REAP_ROOM = `
local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if string.sub(all[i], 1, #ARGV[1]) == ARGV[1] and redis.call('HDEL', KEYS[1], all[i]) == 1 then
    table.insert(out, all[i]); table.insert(out, all[i + 1])
  end
end
return out`;

// Removes a node's names. KEYS: names hash, the node's names set. ARGV: "NODE/".
const REAP_NAMES = `
for _, k in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local v = redis.call('HGET', KEYS[1], k)
  if v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then redis.call('HDEL', KEYS[1], k) end
end
redis.call('DEL', KEYS[2])
return 1`;

/**
 * The cluster Directory on Redis. Keys (PREFIX `parley`): `PREFIX:m:{ROOM}` a hash of the room's
 * members (`NODE/USER` -> name; the room is the hash tag, as for its channel), `PREFIX:{names}` a
 * hash of name keys -> `NODE/USER`, `PREFIX:{names}:NODE` and `PREFIX:nr:NODE` the names and rooms
 * a node holds (to clean up after it), `PREFIX:nodes` the set of nodes and `PREFIX:hb:NODE` each
 * node's heartbeat (expiring after `ttlMs`, renewed every third of it). Multi-key scripts touch one
 * hash slot only, so this runs on Redis Cluster too.
 */
export class RedisDirectory implements Directory {
  readonly description: string;
  private readonly client: ReturnType<typeof createClient>;
  private readonly p: string;
  private readonly node: string;
  private readonly ttlMs: number;
  private readonly logger: Logger;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(options: RedisDirectoryOptions) {
    this.p = options.prefix ?? "parley";
    this.node = options.nodeId;
    this.ttlMs = options.ttlMs ?? 10_000;
    this.logger = options.logger ?? silentLogger;
    this.description = describeRedisUrl(options.url);
    this.client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: { connectTimeout: 5_000, reconnectStrategy: (n) => Math.min(100 * 2 ** n, 2_000) },
    });
    this.client.on("error", (err: Error) =>
      this.logger.debug({ err: err.message }, "redis directory connection error"),
    );
  }

  private membersKey(room: string): string {
    return `${this.p}:m:{${room}}`;
  }
  private get names(): string {
    return `${this.p}:{names}`;
  }
  private namesOf(node: string): string {
    return `${this.p}:{names}:${node}`;
  }
  private roomsOf(node: string): string {
    return `${this.p}:nr:${node}`;
  }
  private beatOf(node: string): string {
    return `${this.p}:hb:${node}`;
  }

  async start(): Promise<void> {
    await this.client.connect();
    await this.beat();
    await this.client.sAdd(`${this.p}:nodes`, this.node);
    this.heartbeat = setInterval(
      () => {
        this.beat().catch((err: unknown) =>
          this.logger.warn({ err: String(err) }, "cluster heartbeat failed"),
        );
      },
      Math.max(100, Math.floor(this.ttlMs / 3)),
    );
    this.heartbeat.unref();
  }

  private async beat(): Promise<void> {
    await this.client.set(this.beatOf(this.node), "1", { PX: this.ttlMs });
  }

  async join(room: string, user: string, name: string): Promise<void> {
    await this.client
      .multi()
      .hSet(this.membersKey(room), `${this.node}/${user}`, name)
      .sAdd(this.roomsOf(this.node), room)
      .exec();
  }

  async leave(room: string, user: string): Promise<boolean> {
    return (await this.client.hDel(this.membersKey(room), `${this.node}/${user}`)) === 1;
  }

  async members(room: string): Promise<PresenceEntry[]> {
    const all = await this.client.hGetAll(this.membersKey(room));
    return Object.entries(all).map(([field, name]) => entryOf(field, name));
  }

  async counts(rooms: readonly string[]): Promise<number[]> {
    if (rooms.length === 0) return [];
    const m = this.client.multi();
    for (const r of rooms) m.hLen(this.membersKey(r));
    return (await m.exec()).map((n) => Number(n));
  }

  async claimName(keys: readonly string[], user: string): Promise<boolean> {
    if (keys.length === 0) return true;
    const ok = await this.client.eval(CLAIM, {
      keys: [this.names, this.namesOf(this.node)],
      arguments: [`${this.node}/${user}`, ...keys],
    });
    return Number(ok) === 1;
  }

  async releaseName(keys: readonly string[], user: string): Promise<void> {
    if (keys.length === 0) return;
    await this.client.eval(RELEASE, {
      keys: [this.names, this.namesOf(this.node)],
      arguments: [`${this.node}/${user}`, ...keys],
    });
  }

  async reap(): Promise<Array<{ room: string } & PresenceEntry>> {
    const nodes = await this.client.sMembers(`${this.p}:nodes`);
    const removed: Array<{ room: string } & PresenceEntry> = [];
    for (const node of nodes) {
      if (node === this.node || (await this.client.exists(this.beatOf(node))) === 1) continue;
      removed.push(...(await this.clearNode(node)));
    }
    return removed;
  }

  /** Removes everything `node` held; returns the members removed by this call. */
  private async clearNode(node: string): Promise<Array<{ room: string } & PresenceEntry>> {
    const removed: Array<{ room: string } & PresenceEntry> = [];
    for (const room of await this.client.sMembers(this.roomsOf(node))) {
      const pairs = (await this.client.eval(REAP_ROOM, {
        keys: [this.membersKey(room)],
        arguments: [`${node}/`],
      })) as string[];
      for (let i = 0; i < pairs.length; i += 2) {
        removed.push({ room, ...entryOf(pairs[i]!, pairs[i + 1]!) });
      }
    }
    await this.client.eval(REAP_NAMES, {
      keys: [this.names, this.namesOf(node)],
      arguments: [`${node}/`],
    });
    await this.client.del(this.roomsOf(node));
    await this.client.sRem(`${this.p}:nodes`, node);
    return removed;
  }

  /** Stops the heartbeat and disconnects without clearing anything: what a crash leaves. */
  kill(): void {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    if (this.client.isOpen) this.client.destroy();
  }

  async stop(): Promise<void> {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    if (!this.client.isOpen) return;
    try {
      await this.clearNode(this.node);
      await this.client.del(this.beatOf(this.node));
    } catch (err) {
      this.logger.warn({ err: String(err) }, "could not clear this node from the directory");
    }
    await this.client.close();
  }
}

function entryOf(field: string, name: string): PresenceEntry {
  const slash = field.indexOf("/");
  return { node: field.slice(0, slash), user: field.slice(slash + 1), name };
}
