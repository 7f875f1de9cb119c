#!/usr/bin/env node
/**
 * Runs one benchmark peer as its own process:
 *   tsx bench/peers/serve.ts --peer ws|socketio|socketio-redis|net-floor --port N [--host H] [--rooms FILE]
 *     [--drop-every N] [--redis redis://HOST:PORT]
 * (socketio-redis: a Socket.IO node of a cluster sharing rooms through that Redis; net-floor: the
 * original line protocol over plain net.Socket with nothing else, see net-floor-peer.ts)
 * Prints `listening PORT` once ready; exits on SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { startNetFloorPeer } from "./net-floor-peer.js";
import { loadPeerRooms, type PeerOptions } from "./peer-rooms.js";
import { startSocketIoPeer } from "./socketio-peer.js";
import { startSocketIoRedisPeer } from "./socketio-redis-peer.js";
import { startWsPeer } from "./ws-peer.js";

const { values } = parseArgs({
  options: {
    peer: { type: "string" },
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
    rooms: { type: "string" },
    "drop-every": { type: "string", default: "0" },
    redis: { type: "string" },
  },
});
const redisUrl = values.redis;
const start =
  values.peer === "ws"
    ? startWsPeer
    : values.peer === "socketio"
      ? startSocketIoPeer
      : values.peer === "net-floor"
        ? startNetFloorPeer
        : values.peer === "socketio-redis" && redisUrl !== undefined
          ? (o: PeerOptions) => startSocketIoRedisPeer({ ...o, redisUrl })
          : undefined;
if (!start) {
  process.stderr.write(
    "usage: serve.ts --peer ws|socketio|socketio-redis|net-floor --port N [--redis redis://HOST:PORT]\n",
  );
  process.exit(2);
}
const peer = await start({
  host: values.host,
  port: Number(values.port),
  rooms: loadPeerRooms(values.rooms),
  dropEvery: Number(values["drop-every"]),
});
process.stdout.write(`listening ${peer.port}\n`);
const stop = (): void => {
  void peer.close().then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
