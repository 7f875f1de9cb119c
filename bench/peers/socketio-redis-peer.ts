import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import type { PeerOptions, RunningPeer } from "./peer-rooms.js";
import { startSocketIoPeer } from "./socketio-peer.js";

export interface SocketIoRedisPeerOptions extends PeerOptions {
  /** the Redis every node of the cluster shares: `redis://HOST:PORT` */
  redisUrl: string;
}

/**
 * The Socket.IO peer as one node of a cluster, the way Socket.IO's documentation sets one up:
 * `@socket.io/redis-adapter`'s `createAdapter` on two `redis` (node-redis) clients, one publishing
 * and one subscribed. Every broadcast is one PUBLISH to a channel of the namespace, and every node
 * is PSUBSCRIBEd to all of them, so every node receives every message whether or not it has
 * members in the room (socket.io#5226). The chat handlers are the single-process peer's.
 */
export async function startSocketIoRedisPeer(
  options: SocketIoRedisPeerOptions,
): Promise<RunningPeer> {
  const pub = createClient({ url: options.redisUrl });
  const sub = pub.duplicate();
  for (const [name, client] of [
    ["publisher", pub],
    ["subscriber", sub],
  ] as const) {
    // node-redis reconnects by itself; without a listener an error event would end the process
    client.on("error", (err: Error) =>
      process.stderr.write(`socketio-redis peer: ${name}: ${err.message}\n`),
    );
  }
  await Promise.all([pub.connect(), sub.connect()]);
  let peer: RunningPeer;
  try {
    peer = await startSocketIoPeer(options, { adapter: createAdapter(pub, sub) });
  } catch (err) {
    await Promise.allSettled([pub.close(), sub.close()]);
    throw err;
  }
  return {
    port: peer.port,
    close: async () => {
      await peer.close();
      await Promise.allSettled([pub.close(), sub.close()]);
    },
  };
}
