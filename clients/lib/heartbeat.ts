import type { Clock } from "./clock.js";

/**
 * Liveness of one link: every `periodMs` it asks for a ping, unless the previous one is still
 * unanswered, in which case the link is declared dead. Anything received from the server counts
 * as an answer (heard()). A half-open TCP connection shows no other sign: writes succeed and
 * nothing ever arrives.
 */
export class Heartbeat {
  private timer: unknown;
  private outstanding = false;
  private running = false;

  constructor(
    private readonly clock: Clock,
    private readonly periodMs: number,
    private readonly ping: () => void,
    private readonly dead: () => void,
  ) {}

  start(): void {
    if (this.running || this.periodMs <= 0) return;
    this.running = true;
    this.outstanding = false;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.clock.clearTimeout(this.timer);
  }

  heard(): void {
    this.outstanding = false;
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      if (!this.running) return;
      if (this.outstanding) {
        this.running = false;
        this.dead();
        return;
      }
      this.outstanding = true;
      this.ping();
      this.schedule();
    }, this.periodMs);
  }
}
