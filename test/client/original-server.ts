// A test stand-in for the original rust-chat-server, written from the reference facts in
// shared/reference/rust-chat-server-protocol.md (the Rust binary cannot be built here): line
// protocol only, no extension events, no `pv` in login_successful, extra fields ignored, silent
// on bad input. It records every command it receives, so tests can check that a client sends it
// nothing but original commands, and it keeps the original's defects that matter to a client
// (joining an unknown room or one already joined drops the connection).
import { createServer, type Server, type Socket } from "node:net";
import { once } from "node:events";
import { randomBytes } from "node:crypto";

interface Conn {
  socket: Socket;
  userId: string;
  rooms: Set<string>;
}

export class OriginalServer {
  readonly received: Array<Record<string, unknown>> = [];
  /** while true, lines are read but not handled (to lose commands with a dropped connection) */
  holding = false;
  private readonly server: Server;
  private readonly conns = new Set<Conn>();
  private readonly members = new Map<string, Set<Conn>>();

  private constructor(private readonly rooms: ReadonlyArray<{ n: string; d: string }>) {
    for (const r of rooms) this.members.set(r.n, new Set());
    this.server = createServer((socket) => this.onSocket(socket));
  }

  static async start(
    rooms: ReadonlyArray<{ n: string; d: string }>,
    port = 0,
  ): Promise<OriginalServer> {
    const s = new OriginalServer(rooms);
    s.server.listen(port, "127.0.0.1");
    await once(s.server, "listening");
    return s;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Cuts every connection without a word, as a crashed server would. */
  dropAll(): void {
    for (const c of [...this.conns]) c.socket.destroy();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise((r) => this.server.close(r));
  }

  private onSocket(socket: Socket): void {
    const conn: Conn = {
      socket,
      userId: randomBytes(4).toString("hex").slice(0, 5),
      rooms: new Set(),
    };
    this.conns.add(conn);
    socket.setNoDelay(true);
    socket.on("error", () => socket.destroy());
    socket.on("close", () => this.gone(conn));
    this.write(conn, {
      _et: "login_successful",
      s: randomBytes(16).toString("base64url").slice(0, 21),
      u: conn.userId,
      rs: this.rooms,
    });
    let buf = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line && !this.holding) this.handle(conn, line);
      }
    });
  }

  private handle(conn: Conn, line: string): void {
    let cmd: Record<string, unknown>;
    try {
      cmd = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // the original skips what it cannot parse
    }
    this.received.push(cmd);
    const room = typeof cmd.r === "string" ? cmd.r : "";
    switch (cmd._ct) {
      case "join_room": {
        const set = this.members.get(room);
        if (set === undefined || conn.rooms.has(room)) {
          conn.socket.destroy(); // the original's defect
          return;
        }
        set.add(conn);
        conn.rooms.add(room);
        this.write(conn, { _et: "user_joined_room", r: room, us: [...set].map((c) => c.userId) });
        this.broadcast(room, { _et: "room_participation", r: room, u: conn.userId, s: "joined" });
        return;
      }
      case "leave_room":
        if (!conn.rooms.has(room)) return;
        this.broadcast(room, { _et: "room_participation", r: room, u: conn.userId, s: "left" });
        this.members.get(room)!.delete(conn);
        conn.rooms.delete(room);
        return;
      case "send_message":
        if (!conn.rooms.has(room) || typeof cmd.c !== "string") return;
        this.broadcast(room, { _et: "user_message", r: room, u: conn.userId, c: cmd.c });
        return;
      case "quit":
        conn.socket.end();
        return;
      default:
        return; // unknown commands are skipped silently
    }
  }

  private gone(conn: Conn): void {
    if (!this.conns.delete(conn)) return;
    for (const room of conn.rooms) {
      this.members.get(room)!.delete(conn);
      this.broadcast(room, { _et: "room_participation", r: room, u: conn.userId, s: "left" });
    }
  }

  private broadcast(room: string, ev: object): void {
    for (const c of this.members.get(room) ?? []) this.write(c, ev);
  }

  private write(conn: Conn, ev: object): void {
    if (!conn.socket.destroyed) conn.socket.write(JSON.stringify(ev) + "\r\n");
  }
}
