/** Pure layout arithmetic for the chat page (kept out of components so it can be tested). */

/** Column widths: the original's 20% / 60% / 20%, with the side columns at least 18 wide. */
export function columns(width: number): { left: number; middle: number; right: number } {
  const side = Math.max(18, Math.floor(width * 0.2));
  return { left: side, middle: Math.max(10, width - 2 * side), right: side };
}

/** Terminal rows a text takes when wrapped at `width` columns (an estimate: 1 column per code point). */
export function rowsOf(text: string, width: number): number {
  if (width <= 0) return 1;
  let rows = 0;
  for (const part of text.split("\n")) rows += Math.max(1, Math.ceil([...part].length / width));
  return rows;
}

export interface Window<T> {
  shown: T[];
  /** items above the window (older) */
  above: number;
  /** items below the window (newer), skipped by scrolling back */
  below: number;
}

/**
 * The newest items that fit in `rows` rows, after skipping the `scroll` newest ones (scrollback).
 * `rowsFor` says how many rows an item takes.
 */
export function tailWindow<T>(
  items: readonly T[],
  rows: number,
  scroll: number,
  rowsFor: (item: T) => number,
): Window<T> {
  const end = Math.max(0, items.length - Math.max(0, scroll));
  let used = 0;
  let start = end;
  while (start > 0) {
    const r = rowsFor(items[start - 1]!);
    if (used + r > rows && start < end) break;
    used += r;
    start--;
    if (used >= rows) break;
  }
  return { shown: items.slice(start, end), above: start, below: items.length - end };
}

/** The first index of a `size`-long window over `count` items that keeps `focus` in view, centred. */
export function windowStart(count: number, size: number, focus: number): number {
  if (count <= size) return 0;
  return Math.min(Math.max(0, focus - Math.floor(size / 2)), count - size);
}

/** `text` in at most `columns` columns (1 per code point): when longer, "…" and its end. */
export function keepEnd(text: string, columns: number): string {
  const chars = [...text];
  if (chars.length <= columns) return text;
  return columns <= 0 ? "" : "…" + chars.slice(chars.length - columns + 1).join("");
}

/** "1h 02m 05s", "3m 07s", "42s" */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number): string => String(n).padStart(2, "0");
  if (h > 0) return `${h}h ${pad(m)}m ${pad(s)}s`;
  if (m > 0) return `${m}m ${pad(s)}s`;
  return `${s}s`;
}
