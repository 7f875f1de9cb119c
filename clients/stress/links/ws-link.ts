import type { Socket } from "node:net";
import WebSocket from "ws";
import { scanEvent } from "./event-scan.js";
import type { Link, LinkOptions, LinkSink, RoomRef } from "./link.js";

/**
 * A zero masking key: RFC 6455 makes clients mask frames so that a hostile page cannot poison
 * proxy caches; a load generator on loopback has no such page, and ws skips the XOR pass for an
 * all-zero key. The server side sees ordinary masked frames.
 */
function zeroMask(mask: Uint8Array): void {
  mask.fill(0);
}

/**
 * Parley's WebSocket protocol (and the peers'): one JSON command or event per text frame.
 * Each message is its own frame, but frames queued in one engine tick are corked into one write
 * on the underlying socket.
 */
export class WsLink implements Link {
  private readonly ws: WebSocket;
  private corked = false;
  private failure: string | undefined;
  private loggedIn = false;

  constructor(
    url: string,
    private readonly sink: LinkSink,
    private readonly options: LinkOptions,
    tls?: { ca?: Buffer },
  ) {
    this.ws = new WebSocket(url, {
      ...(tls?.ca !== undefined && { ca: tls.ca }),
      perMessageDeflate: false,
      skipUTF8Validation: true,
      generateMask: zeroMask,
      maxPayload: 64 * 1024 * 1024,
    });
    this.ws.on("message", (data: WebSocket.RawData) => {
      const now = performance.now();
      this.sink.onRead(now);
      const s = toLatin1(data);
      this.loggedIn = true;
      scanEvent(s, 0, s.length, now, this.sink, this.options.wantRooms);
    });
    this.ws.on("error", (err: NodeJS.ErrnoException) => {
      this.failure ??= err.code ?? err.message;
    });
    this.ws.on("close", (code: number) => {
      if (!this.loggedIn) this.failure ??= "closed before login_successful";
      if (code !== 1000 && code !== 1005) this.failure ??= `closed with code ${code}`;
      this.sink.onClose(this.failure);
    });
  }

  /** ws's underlying socket (not public API; the link only uses it to batch frames). */
  private get socket(): Socket | undefined {
    return (this.ws as unknown as { _socket?: Socket })._socket;
  }

  private write(text: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (!this.corked) {
      this.socket?.cork();
      this.corked = true;
    }
    this.ws.send(text);
  }

  hello(token?: string): void {
    this.write(
      token === undefined
        ? '{"_ct":"hello","v":1}'
        : `{"_ct":"hello","v":1,"tok":${JSON.stringify(token)}}`,
    );
    this.flush();
  }

  join(room: RoomRef): void {
    this.write(`{"_ct":"join_room","r":${JSON.stringify(room.name)}}`);
    this.flush();
  }

  send(room: RoomRef, payload: string): void {
    this.write(room.sendPrefix + payload + '"}');
  }

  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket?.uncork();
  }

  get backlogBytes(): number {
    return this.ws.bufferedAmount;
  }

  close(): void {
    this.ws.terminate();
  }
}

function toLatin1(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("latin1");
  if (Array.isArray(data)) return Buffer.concat(data).toString("latin1");
  return Buffer.from(data).toString("latin1");
}
