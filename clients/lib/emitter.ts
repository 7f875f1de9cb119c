/**
 * A minimal typed event emitter that runs in Node and browsers (node:events is not in browsers).
 * `M` maps event names to listener argument tuples.
 */
export class Emitter<M extends { [K in keyof M]: unknown[] }> {
  // Listener sets are stored untyped per name; on() and emit() keep names and arguments matched.
  private readonly listeners = new Map<keyof M, Set<unknown>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof M>(name: K, fn: (...args: M[K]) => void): () => void {
    let set = this.listeners.get(name);
    if (set === undefined) this.listeners.set(name, (set = new Set()));
    set.add(fn);
    return () => this.off(name, fn);
  }

  off<K extends keyof M>(name: K, fn: (...args: M[K]) => void): void {
    this.listeners.get(name)?.delete(fn);
  }

  protected emit<K extends keyof M>(name: K, ...args: M[K]): void {
    const set = this.listeners.get(name);
    if (set === undefined) return;
    for (const fn of [...set]) (fn as (...a: M[K]) => void)(...args);
  }
}
