/**
 * One simulated user's connection, whatever the transport. The load engine drives every link the
 * same way; a link turns that into the transport's wire format and reports what it receives
 * through a LinkSink, reading no more of each event than the engine needs.
 */

/** A room as links need it: its name, and the JSON text that starts a send_message to it. */
export interface RoomRef {
  readonly index: number;
  readonly name: string;
  /** `{"_ct":"send_message","r":"NAME","c":"` , so that a send is two concatenations */
  readonly sendPrefix: string;
}

export function roomRef(index: number, name: string): RoomRef {
  return {
    index,
    name,
    sendPrefix: `{"_ct":"send_message","r":${JSON.stringify(name)},"c":"`,
  };
}

/** What a link reports. Called synchronously from socket callbacks: keep them cheap. */
export interface LinkSink {
  /** Some input arrived (once per chunk or frame, before it is scanned). */
  onRead(nowMs: number): void;
  /** login_successful arrived; `rooms` only when the link was asked for them */
  onLogin(rooms: string[] | undefined): void;
  /** user_joined_room for `room` (the reply to our join) */
  onJoined(room: string): void;
  /**
   * A user_message whose text is one of our payloads: `s` holds it, starting at index `at` (just
   * after the marker); `nowMs` is when the chunk that carried it was read (performance.now()).
   */
  onDelivery(s: string, at: number, nowMs: number): void;
  /** An extension event that signals trouble (error, slow_down, disconnect), by its `_et`. */
  onTrouble(type: string, detail: string): void;
  /** The connection ended; `error` is set when it failed rather than closed cleanly. */
  onClose(error: string | undefined): void;
}

export interface LinkOptions {
  /** parse the room list out of login_successful (only one link per run needs to) */
  wantRooms: boolean;
}

export interface Link {
  /**
   * Opts in to protocol extensions (never called in original-only mode, unless with a token);
   * `token` (a JWT) goes in the hello for a server with --auth
   */
  hello(token?: string): void;
  join(room: RoomRef): void;
  /** Queues a send_message; nothing is written before flush(). */
  send(room: RoomRef, payload: string): void;
  /** Writes everything queued since the last flush, as one write where the transport allows. */
  flush(): void;
  /** Bytes written by us and not yet taken by the kernel (our side's backlog). */
  readonly backlogBytes: number;
  close(): void;
}

/** Where and how to connect. */
export interface TransportTarget {
  kind: "tcp" | "ws" | "socketio";
  host: string;
  /** the port (with `ports`: the first of them, where the room list is read) */
  port: number;
  /**
   * Several servers sharing rooms (the nodes of a cluster): users are spread over these ports
   * round-robin (see serverOfUser). Absent: every user connects to `port`.
   */
  ports?: readonly number[];
  /** WebSocket path (ws) */
  path: string;
  /** TLS (tcp: TLS on the line port; ws: wss://); `ca` trusted instead of Node's CAs */
  tls?: { ca?: Buffer };
}

export type LinkFactory = (sink: LinkSink, options: LinkOptions) => Link;
