import { createServer, type AddressInfo, type Socket } from "node:net";
import { loadPeerRooms, randomId, type PeerOptions, type RunningPeer } from "./peer-rooms.js";

interface Client {
  socket: Socket;
  user: string;
  rooms: Set<string>;
  /** line bytes not yet ended by LF */
  rest: string;
  /** events queued this loop turn, written as one Buffer */
  out: Buffer[];
  queued: boolean;
}

/**
 * The least a Node server on `net.Socket` can spend on the original line protocol: the original
 * commands over line TCP, each event's bytes made once and shared by its recipients, every
 * connection's events of one loop turn joined into one write (setImmediate, as Parley does),
 * TCP_NODELAY. Nothing else: no limits, no flow control, no bad-input handling, no metrics, no
 * store. It is the floor Parley's TCP transport stands on (Node's stream layer and the kernel),
 * so "Parley minus floor" is what Parley's own code costs. A baseline, not a product.
 */
export async function startNetFloorPeer(options: PeerOptions): Promise<RunningPeer> {
  const roomList = options.rooms ?? loadPeerRooms();
  const login = roomList.map((r) => ({ n: r.name, d: r.description }));
  const rooms = new Map<string, Set<Client>>(roomList.map((r) => [r.name, new Set()]));
  const dropEvery = options.dropEvery ?? 0;
  let deliveries = 0;
  let turn: Client[] = [];
  let scheduled = false;

  const flush = (): void => {
    scheduled = false;
    const clients = turn;
    turn = [];
    for (const c of clients) {
      c.queued = false;
      const bytes = c.out.length === 1 ? c.out[0]! : Buffer.concat(c.out);
      c.out = [];
      c.socket.write(bytes);
    }
  };
  const send = (c: Client, bytes: Buffer): void => {
    c.out.push(bytes);
    if (c.queued) return;
    c.queued = true;
    turn.push(c);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  const line = (event: object): Buffer => Buffer.from(`${JSON.stringify(event)}\r\n`);
  const broadcast = (room: Set<Client>, event: object, isMessage: boolean): void => {
    const bytes = line(event);
    for (const m of room) {
      if (isMessage && dropEvery > 0 && ++deliveries % dropEvery === 0) continue;
      send(m, bytes);
    }
  };
  const leave = (c: Client, name: string): void => {
    const room = rooms.get(name);
    if (!room || !room.delete(c)) return;
    c.rooms.delete(name);
    broadcast(room, { _et: "room_participation", r: name, u: c.user, s: "left" }, false);
  };
  const handle = (c: Client, text: string): void => {
    let cmd: { _ct?: unknown; r?: unknown; c?: unknown };
    try {
      cmd = JSON.parse(text) as typeof cmd;
    } catch {
      return; // as the original: bad JSON is skipped
    }
    const r = typeof cmd.r === "string" ? cmd.r : "";
    const room = rooms.get(r);
    switch (cmd._ct) {
      case "join_room":
        if (!room || room.has(c)) return;
        room.add(c);
        c.rooms.add(r);
        send(c, line({ _et: "user_joined_room", r, us: [...room].map((m) => m.user) }));
        broadcast(room, { _et: "room_participation", r, u: c.user, s: "joined" }, false);
        return;
      case "leave_room":
        return leave(c, r);
      case "send_message":
        if (!room || !room.has(c) || typeof cmd.c !== "string") return;
        broadcast(room, { _et: "user_message", r, u: c.user, c: cmd.c }, true);
        return;
      case "quit":
        c.socket.end();
        return;
    }
  };

  const server = createServer({ noDelay: true }, (socket) => {
    const c: Client = {
      socket,
      user: randomId(5),
      rooms: new Set(),
      rest: "",
      out: [],
      queued: false,
    };
    send(c, line({ _et: "login_successful", s: randomId(21), u: c.user, rs: login }));
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      const lines = (c.rest + chunk).split("\n");
      c.rest = lines.pop()!;
      for (const l of lines) if (l.length > 1 || (l.length === 1 && l !== "\r")) handle(c, l);
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      for (const r of [...c.rooms]) leave(c, r);
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const set of rooms.values()) for (const c of set) c.socket.destroy();
        server.close(() => resolve());
      }),
  };
}
