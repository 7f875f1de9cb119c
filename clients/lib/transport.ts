/**
 * How the client reaches a server. A Transport opens Links; each Link is one connection, carrying
 * whole frames of text (one JSON command or event each) whatever the framing underneath.
 * Browser-safe: the Node-only transports live in their own files (tcp-transport.ts,
 * node-websocket.ts) so that a browser bundle never pulls in node:net.
 */
export interface LinkHandlers {
  /** the connection is open (the server speaks first: login_successful follows) */
  onOpen(): void;
  /** one whole frame's text */
  onFrame(text: string): void;
  /** the link is gone; called exactly once, with the error when it failed rather than closed */
  onClose(error?: Error): void;
}

export interface Link {
  /** Sends one frame (framing is the transport's). Ignored once the link is closing. */
  send(text: string): void;
  /** Closes after queued output is written. onClose follows. Idempotent. */
  close(): void;
}

/** What one connection carries besides its frames. */
export interface LinkOptions {
  /**
   * a bearer token for the server's `--auth`: the WebSocket transport puts it on the URL
   * (`?token=`); every transport's client also sends it in `hello`
   */
  token?: string;
}

export interface Transport {
  /** where it connects, for messages: "tcp://localhost:8080" */
  readonly description: string;
  open(handlers: LinkHandlers, options?: LinkOptions): Link;
}

/** Default time allowed for a connection to open, in ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
