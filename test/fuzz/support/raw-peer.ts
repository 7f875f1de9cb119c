/**
 * A raw TCP peer for end-to-end fuzzing: writes bytes exactly as given (in separate writes, each
 * in its own event-loop turn so the server reads them apart), records every byte the server sends
 * and lets a test wait on what arrived.
 */
import { connect, type Socket } from "node:net";
import { once } from "node:events";
import { setImmediate as nextTurn } from "node:timers/promises";

/** How long any wait on the server lasts before the case fails; generous for a busy 2-core machine. */
export const WAIT_MS = 10_000;

export class RawPeer {
  private chunks: Buffer[] = [];
  private waiters: Array<() => void> = [];
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on("data", (b: Buffer) => {
      this.chunks.push(b);
      this.wake();
    });
    // A write racing the server's close fails with EPIPE or ECONNRESET: an outcome, not an error.
    socket.on("error", () => {});
    this.closed = once(socket, "close").then(() => {
      this.isClosed = true;
      this.wake();
    });
  }

  static async connect(port: number): Promise<RawPeer> {
    const socket = connect({ host: "127.0.0.1", port });
    await once(socket, "connect");
    return new RawPeer(socket);
  }

  /** Every byte received so far. */
  get received(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  /** Writes each piece in its own turn; stops once the socket can no longer be written. */
  async writePieces(pieces: readonly Uint8Array[]): Promise<void> {
    for (const p of pieces) {
      if (this.socket.destroyed || !this.socket.writable) return;
      if (p.length > 0) this.socket.write(p);
      await nextTurn();
    }
  }

  /** Resolves once `done()` is true (checked on every arrival and on close); rejects after `ms`. */
  async until(what: string, done: () => boolean, ms = WAIT_MS): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the server to close the connection. */
  async untilClosed(what: string, ms = WAIT_MS): Promise<void> {
    await this.until(what, () => this.isClosed, ms);
  }

  /** Half-closes: the server sees end of input. */
  end(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
