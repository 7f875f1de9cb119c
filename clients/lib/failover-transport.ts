import type { Link, LinkHandlers, LinkOptions, Transport } from "./transport.js";

/**
 * Several servers as one Transport: the nodes of a cluster, any of which can serve the client.
 *
 * - Once a link that opened has ended, the next connection starts with the server after its
 *   one, so when a node dies its clients reconnect (with the client's backoff) to another and
 *   resume there.
 * - A connection that fails before it opens (refused, timed out) goes on to the next server at
 *   once, until each has been tried once; only then does the link fail, naming every server's
 *   error. So a node that is down costs no backoff delay, and the first connection succeeds while
 *   any server answers.
 * - `description` is the server of the current link or attempt, and between links the one the
 *   next connection tries first: the client's status says which server it is on.
 *
 * Browser-safe.
 */
export function failoverTransport(servers: readonly Transport[]): Transport {
  if (servers.length === 0) throw new Error("failoverTransport: no server");
  if (servers.length === 1) return servers[0]!;
  const cursor = { at: 0 };
  return {
    get description() {
      return servers[cursor.at]!.description;
    },
    open: (handlers, options) => new FailoverLink(servers, cursor, handlers, options),
  };
}

/** One connection: an attempt per server in turn until one opens. */
class FailoverLink implements Link {
  private inner: Link | undefined;
  /** number of the current attempt: callbacks of earlier ones are stale */
  private attempt = 0;
  private opened = false;
  private closing = false;
  private readonly errors: string[] = [];

  constructor(
    private readonly servers: readonly Transport[],
    private readonly cursor: { at: number },
    private readonly handlers: LinkHandlers,
    private readonly options: LinkOptions | undefined,
  ) {
    this.start();
  }

  private start(): void {
    const n = ++this.attempt;
    const server = this.servers[this.cursor.at]!;
    this.inner = undefined;
    try {
      this.inner = server.open(
        {
          onOpen: () => {
            if (n !== this.attempt) return;
            this.opened = true;
            this.handlers.onOpen();
          },
          onFrame: (text) => {
            if (n === this.attempt) this.handlers.onFrame(text);
          },
          onClose: (error) => {
            if (n === this.attempt) this.ended(server, error);
          },
        },
        this.options,
      );
    } catch (err) {
      // never onClose from inside open(): the caller has no link to match it to yet
      const error = err instanceof Error ? err : new Error(String(err));
      queueMicrotask(() => {
        if (n === this.attempt) this.ended(server, error);
      });
    }
  }

  private ended(server: Transport, error: Error | undefined): void {
    this.cursor.at = (this.cursor.at + 1) % this.servers.length;
    if (this.opened || this.closing) return this.handlers.onClose(error);
    this.errors.push(`${server.description}: ${error?.message ?? "closed before it opened"}`);
    if (this.errors.length < this.servers.length) return this.start();
    this.handlers.onClose(new Error(this.errors.join("; ")));
  }

  send(text: string): void {
    this.inner?.send(text);
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.inner?.close();
  }
}
