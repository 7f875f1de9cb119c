import type { Logger } from "./ports.js";

/**
 * Logs at debug at most `perWindow` lines per `windowMs` (defaults 10 per 10 s); the next line
 * after a window where some were suppressed says how many. For input a peer controls (bad
 * datagrams, bad device payloads): a flood of garbage must not become a flood of log lines.
 */
export class ThrottledLog {
  private windowStart = -Infinity;
  private logged = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly perWindow = 10,
    private readonly windowMs = 10_000,
  ) {}

  debug(obj: object, msg: string): void {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      this.windowStart = t;
      this.logged = 0;
    }
    if (this.logged >= this.perWindow) {
      this.suppressed++;
      return;
    }
    this.logged++;
    const extra = this.suppressed > 0 ? { suppressed: this.suppressed } : {};
    this.suppressed = 0;
    this.logger.debug({ ...obj, ...extra }, msg);
  }
}
