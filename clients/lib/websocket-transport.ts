/**
 * WebSocket links: one JSON command or event per text frame. Browser-safe: it uses the WebSocket
 * class it is given, by default the global one (browsers; Node 22+). In Node 20, use
 * nodeWebSocketTransport (node-websocket.ts), which passes the `ws` package's class.
 */
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  type Link,
  type LinkHandlers,
  type Transport,
} from "./transport.js";

/** The part of the WebSocket API this transport uses (browsers and `ws` both have it). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface WebSocketTransportOptions {
  /** e.g. ws://localhost:8081/ws */
  url: string;
  /** Default: globalThis.WebSocket */
  WebSocket?: WebSocketConstructor;
  /** time allowed for the connection to open, in ms. Default 10,000 */
  connectTimeoutMs?: number;
}

const OPEN = 1;
/** WebSocket close code for a normal closure */
const NORMAL_CLOSURE = 1000;

export function websocketTransport(options: WebSocketTransportOptions): Transport {
  const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (Ctor === undefined) {
    throw new Error("no WebSocket class here: pass one (in Node 20: nodeWebSocketTransport)");
  }
  return {
    description: options.url,
    open: (handlers, link) =>
      new WebSocketLink(Ctor, options, handlers, withToken(options.url, link?.token)),
  };
}

/**
 * The URL with `token` as its query parameter (browsers cannot set an Authorization header on
 * a WebSocket). The URL is not logged by the server; it may be by a proxy in front of it.
 */
function withToken(url: string, token: string | undefined): string {
  if (token === undefined) return url;
  const u = new URL(url);
  u.searchParams.set("token", token);
  return u.toString();
}

class WebSocketLink implements Link {
  private readonly ws: WebSocketLike;
  private readonly decoder = new TextDecoder();
  private closed = false;
  private ending = false;
  private error: Error | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    Ctor: WebSocketConstructor,
    options: WebSocketTransportOptions,
    handlers: LinkHandlers,
    url: string,
  ) {
    const ws = new Ctor(url);
    this.ws = ws;
    const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.timer = setTimeout(() => {
      this.error ??= new Error(`connect timed out after ${timeoutMs} ms`);
      ws.close();
      this.finish(handlers);
    }, timeoutMs);
    ws.onopen = () => {
      clearTimeout(this.timer);
      handlers.onOpen();
    };
    ws.onmessage = (ev) => {
      if (this.closed) return;
      const data = ev.data;
      if (typeof data === "string") handlers.onFrame(data);
      else if (data instanceof ArrayBuffer) handlers.onFrame(this.decoder.decode(data));
      else if (ArrayBuffer.isView(data)) {
        handlers.onFrame(
          this.decoder.decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
        );
      }
      // anything else (a Blob from a binary frame in a browser) is not part of the protocol
    };
    ws.onerror = (ev) => {
      // ws gives the cause (a refused certificate, ...); browsers keep it to themselves
      const cause = (ev as { message?: unknown }).message;
      const detail = typeof cause === "string" && cause !== "" ? `: ${cause}` : "";
      this.error ??= new Error(`WebSocket error on ${options.url}${detail}`);
    };
    ws.onclose = (ev) => {
      if (ev.code !== NORMAL_CLOSURE && this.error === undefined && !this.ending) {
        this.error = new Error(`WebSocket closed: ${ev.code} ${ev.reason}`.trim());
      }
      this.finish(handlers);
    };
  }

  private finish(handlers: LinkHandlers): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    handlers.onClose(this.error);
  }

  send(text: string): void {
    if (this.ending || this.closed || this.ws.readyState !== OPEN) return;
    this.ws.send(text);
  }

  close(): void {
    if (this.ending) return;
    this.ending = true;
    this.ws.close(NORMAL_CLOSURE);
  }
}
