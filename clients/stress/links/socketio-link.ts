import type { io as ioFunction, Socket } from "socket.io-client";
import { PAYLOAD_MARKER } from "../payload.js";
import type { Link, LinkOptions, LinkSink, RoomRef } from "./link.js";

type Io = typeof ioFunction;

interface LoginEvent {
  rs?: Array<{ n?: unknown }>;
}

/**
 * The same commands and events as Socket.IO events named after `_ct` / `_et` (the protocol of
 * bench/peers/socketio-peer.ts), over socket.io-client with the websocket transport only (no
 * long-polling phase: the fairest setup for Socket.IO). socket.io-client is a dev dependency,
 * loaded only when this transport is chosen (see links/index.ts).
 */
export class SocketIoLink implements Link {
  private readonly socket: Socket;
  private failure: string | undefined;
  private loggedIn = false;
  private closed = false;

  constructor(io: Io, url: string, sink: LinkSink, options: LinkOptions) {
    this.socket = io(url, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      timeout: 60_000,
    });
    const s = this.socket;
    s.onAny(() => sink.onRead(performance.now()));
    s.on("login_successful", (ev: LoginEvent) => {
      this.loggedIn = true;
      sink.onLogin(
        options.wantRooms && Array.isArray(ev.rs)
          ? ev.rs.map((r) => r.n).filter((n): n is string => typeof n === "string")
          : undefined,
      );
    });
    s.on("user_joined_room", (ev: { r: string }) => sink.onJoined(ev.r));
    s.on("user_message", (ev: { c?: unknown }) => {
      const c = ev.c;
      if (typeof c === "string" && c.startsWith(PAYLOAD_MARKER)) {
        sink.onDelivery(c, PAYLOAD_MARKER.length, performance.now());
      }
    });
    // ("disconnect" is reserved by Socket.IO, so the peer has no disconnect event to report)
    for (const type of ["error", "slow_down"]) {
      s.on(type, (ev: { code?: unknown }) =>
        sink.onTrouble(type, typeof ev?.code === "string" ? ev.code : ""),
      );
    }
    s.on("connect_error", (err: Error) => {
      this.failure ??= err.message;
      this.end(sink);
    });
    s.on("disconnect", (reason: string) => {
      if (reason !== "io client disconnect") this.failure ??= reason;
      if (!this.loggedIn) this.failure ??= "closed before login_successful";
      this.end(sink);
    });
  }

  private end(sink: LinkSink): void {
    if (this.closed) return;
    this.closed = true;
    sink.onClose(this.failure);
  }

  hello(token?: string): void {
    this.socket.emit("hello", token === undefined ? { v: 1 } : { v: 1, tok: token });
  }

  join(room: RoomRef): void {
    this.socket.emit("join_room", { r: room.name });
  }

  send(room: RoomRef, payload: string): void {
    this.socket.emit("send_message", { r: room.name, c: payload });
  }

  flush(): void {}

  get backlogBytes(): number {
    return 0;
  }

  close(): void {
    this.socket.disconnect();
  }
}

export async function loadSocketIo(): Promise<Io> {
  const mod = await import("socket.io-client");
  return mod.io;
}
