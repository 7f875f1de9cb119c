import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { loadPeerRooms, randomId, type PeerOptions, type RunningPeer } from "./peer-rooms.js";

interface Client {
  ws: WebSocket;
  user: string;
  rooms: Set<string>;
}

/**
 * The plain `ws` chat server of seed 001, in Node: a map of rooms to member sets and a loop that
 * sends each event's JSON text to every member, one text frame per event. It speaks Parley's
 * WebSocket protocol (the original commands and events, one JSON object per frame) and nothing
 * else: no limits, no heartbeat, no extensions. A baseline for the benchmark, not a product.
 */
export async function startWsPeer(options: PeerOptions): Promise<RunningPeer> {
  const roomList = options.rooms ?? loadPeerRooms();
  const rs = roomList.map((r) => ({ n: r.name, d: r.description }));
  const rooms = new Map<string, Set<Client>>(roomList.map((r) => [r.name, new Set()]));
  const dropEvery = options.dropEvery ?? 0;
  let deliveries = 0;

  const broadcast = (room: Set<Client>, event: object, isMessage: boolean): void => {
    const text = JSON.stringify(event);
    for (const m of room) {
      if (isMessage && dropEvery > 0 && ++deliveries % dropEvery === 0) continue;
      m.ws.send(text);
    }
  };

  const leave = (c: Client, name: string): void => {
    const room = rooms.get(name);
    if (!room || !room.has(c)) return;
    broadcast(room, { _et: "room_participation", r: name, u: c.user, s: "left" }, false);
    room.delete(c);
    c.rooms.delete(name);
  };

  const handle = (c: Client, text: string): void => {
    let cmd: { _ct?: unknown; r?: unknown; c?: unknown };
    try {
      cmd = JSON.parse(text) as typeof cmd;
    } catch {
      return; // the original skips bad JSON silently
    }
    const r = typeof cmd.r === "string" ? cmd.r : "";
    const room = rooms.get(r);
    switch (cmd._ct) {
      case "join_room":
        if (!room || room.has(c)) return;
        room.add(c);
        c.rooms.add(r);
        c.ws.send(JSON.stringify({ _et: "user_joined_room", r, us: [...room].map((m) => m.user) }));
        broadcast(room, { _et: "room_participation", r, u: c.user, s: "joined" }, false);
        return;
      case "leave_room":
        return leave(c, r);
      case "send_message":
        if (!room || !room.has(c) || typeof cmd.c !== "string") return;
        broadcast(room, { _et: "user_message", r, u: c.user, c: cmd.c }, true);
        return;
      case "quit":
        c.ws.close();
        return;
    }
  };

  const server = createServer((_req, res) => {
    res.writeHead(426).end("WebSocket only, at /ws\n");
  });
  const wss = new WebSocketServer({
    server,
    path: "/ws",
    perMessageDeflate: false,
    maxPayload: 64 * 1024,
  });
  wss.on("connection", (ws) => {
    const c: Client = { ws, user: randomId(5), rooms: new Set() };
    ws.send(JSON.stringify({ _et: "login_successful", s: randomId(21), u: c.user, rs }));
    ws.on("message", (data: Buffer) => handle(c, data.toString()));
    ws.on("error", () => ws.terminate());
    ws.on("close", () => {
      for (const r of [...c.rooms]) leave(c, r);
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
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.close(() => resolve());
      }),
  };
}
