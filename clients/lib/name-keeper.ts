import type { Clock } from "./clock.js";

/** Attempts to reclaim the display name after a reconnect before giving up. */
const RECLAIM_ATTEMPTS = 5;

/**
 * The display name the user chose, taken again at each login. After a reconnect our previous
 * session may still hold it on the server (it has not yet noticed the old connection is gone):
 * a NAME_TAKEN then is tried again a few times, a little later each time (delayMs, 2 x delayMs...).
 */
export class NameKeeper {
  private attempts = 0;
  private timer: unknown;

  constructor(
    private readonly clock: Clock,
    private readonly delayMs: number,
    /** the name to keep; undefined: the server's (the user id) */
    public wanted: string | undefined,
  ) {}

  /** A new session: its tries start over. */
  loggedIn(): void {
    this.attempts = 0;
  }

  /** The server gave us this name (user_renamed about us): it is the one to keep. */
  confirmed(name: string): void {
    this.wanted = name;
    this.attempts = 0;
  }

  /**
   * The server said NAME_TAKEN to our hello or set_name. `current` is our name now, `reconnects`
   * the session's (a first session's name is simply taken by someone else); `retry` is called
   * later, with the name to ask for, if it is still wanted then.
   */
  taken(current: string, reconnects: number, retry: (name: string) => void): void {
    const name = this.wanted;
    if (name === undefined || current === name) return;
    if (reconnects === 0 || this.attempts >= RECLAIM_ATTEMPTS) return;
    this.attempts++;
    this.timer = this.clock.setTimeout(() => {
      if (this.wanted === name) retry(name);
    }, this.delayMs * this.attempts);
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
  }
}
