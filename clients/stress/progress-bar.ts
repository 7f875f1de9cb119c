import type { ProgressInfo } from "./run-scenario.js";

const WIDTH = 24;

/**
 * One self-rewriting status line on a terminal (stderr), so that stdout stays clean for the
 * report or `--json`. Rates are computed between two consecutive updates.
 */
export class ProgressBar {
  private last: { at: number; sent: number; delivered: number } | undefined;

  constructor(private readonly out: NodeJS.WriteStream) {}

  update(p: ProgressInfo): void {
    const now = performance.now();
    let rates = "";
    if (this.last && now > this.last.at) {
      const dt = (now - this.last.at) / 1000;
      const sent = Math.max(0, p.sent - this.last.sent) / dt;
      const deliv = Math.max(0, p.delivered - this.last.delivered) / dt;
      rates = `  ${short(sent)} sent/s  ${short(deliv)} deliv/s`;
    }
    this.last = { at: now, sent: p.sent, delivered: p.delivered };
    const f = p.fraction === undefined ? undefined : Math.min(1, Math.max(0, p.fraction));
    const bar =
      f === undefined
        ? ""
        : `[${"#".repeat(Math.round(f * WIDTH)).padEnd(WIDTH, ".")}] ${String(Math.round(f * 100)).padStart(3)}% `;
    const line = `${bar}${p.phase}  users ${p.readyUsers}${rates}  p99 ${p.p99Ms.toFixed(1)} ms`;
    this.out.write(`\r\x1b[2K${line.slice(0, (this.out.columns || 120) - 1)}`);
  }

  clear(): void {
    this.out.write("\r\x1b[2K");
  }
}

function short(n: number): string {
  return n >= 1e6
    ? `${(n / 1e6).toFixed(2)}M`
    : n >= 1e3
      ? `${(n / 1e3).toFixed(1)}k`
      : n.toFixed(0);
}
