import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, type ServerOptions } from "socket.io";
import { loadPeerRooms, randomId, type PeerOptions, type RunningPeer } from "./peer-rooms.js";

interface Cmd {
  r?: unknown;
  c?: unknown;
}

/**
 * The chat server a Node developer would write with Socket.IO, the idiomatic way: Socket.IO rooms
 * (`socket.join`) and `io.to(room).emit(...)`, with events named after the original protocol's
 * `_ct` / `_et` and carrying the same fields. Socket.IO's defaults otherwise (in-memory adapter,
 * heartbeats, both transports offered; the stress driver connects with the websocket transport).
 * `serverOptions` are added to those (the cluster peer's adapter).
 *
 * `user_joined_room` lists this server's members of the room (the in-memory adapter's): with a
 * cluster adapter, a list of every node's would take `fetchSockets()`, a request to every node,
 * which the benchmarks do not read anyway.
 */
export async function startSocketIoPeer(
  options: PeerOptions,
  serverOptions: Partial<ServerOptions> = {},
): Promise<RunningPeer> {
  const roomList = options.rooms ?? loadPeerRooms();
  const rs = roomList.map((r) => ({ n: r.name, d: r.description }));
  const known = new Set(roomList.map((r) => r.name));
  if (options.dropEvery) throw new Error("the Socket.IO peer has no fault injection");

  const server = createServer();
  const io = new Server(server, { serveClient: false, ...serverOptions });
  const userOf = (socketId: string): string =>
    (io.sockets.sockets.get(socketId)?.data as { u?: string } | undefined)?.u ?? "";

  io.on("connection", (socket) => {
    const u = randomId(5);
    socket.data = { u };
    socket.emit("login_successful", { s: randomId(21), u, rs });

    socket.on("join_room", (cmd: Cmd) => {
      const r = cmd?.r;
      if (typeof r !== "string" || !known.has(r) || socket.rooms.has(r)) return;
      void socket.join(r);
      const us = [...(io.sockets.adapter.rooms.get(r) ?? [])].map(userOf);
      socket.emit("user_joined_room", { r, us });
      io.to(r).emit("room_participation", { r, u, s: "joined" });
    });
    socket.on("leave_room", (cmd: Cmd) => {
      const r = cmd?.r;
      if (typeof r !== "string" || !socket.rooms.has(r) || r === socket.id) return;
      io.to(r).emit("room_participation", { r, u, s: "left" });
      void socket.leave(r);
    });
    socket.on("send_message", (cmd: Cmd) => {
      const r = cmd?.r;
      if (typeof r !== "string" || r === socket.id || !socket.rooms.has(r)) return;
      if (typeof cmd.c !== "string") return;
      io.to(r).emit("user_message", { r, u, c: cmd.c });
    });
    socket.on("quit", () => socket.disconnect(true));
    socket.on("disconnecting", () => {
      for (const r of socket.rooms) {
        if (r !== socket.id) socket.to(r).emit("room_participation", { r, u, s: "left" });
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.host ?? "127.0.0.1", port: options.port }, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        io.disconnectSockets(true);
        void io.close(() => resolve());
      }),
  };
}
