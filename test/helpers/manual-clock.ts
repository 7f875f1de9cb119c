import type { Clock } from "../../src/core/index.js";

/** A clock that moves only when told to; due timers fire in order as it advances. */
export class ManualClock implements Clock {
  private t = 1_000_000;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 1;
  private deferred: Array<() => void> = [];

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  defer(fn: () => void): void {
    this.deferred.push(fn);
  }
  /** Runs what was deferred (the end of the current event-loop turn), and what that defers. */
  endTurn(): void {
    while (this.deferred.length > 0) {
      const run = this.deferred;
      this.deferred = [];
      for (const fn of run) fn();
    }
  }
  advance(ms: number): void {
    this.endTurn();
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const due = this.timers[0];
      if (!due || due.at > end) break;
      this.timers.shift();
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }
}
