import { type Key, useInput } from "ink";

/** A key press with no special key: plain text input. */
export const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/**
 * Splits what ink reports as one input into key presses. Ink hands over a run of plain
 * characters read at once (fast typing, a paste, tmux send-keys) as a single input, Enter
 * included ("hello\r"); handled as one, that Enter would be lost. A lone "\n" is Enter too: ink
 * names it "enter", not "return", and an Enter typed before the TUI put the terminal in raw
 * mode arrives so (the tty's ICRNL turned \r into \n). Ctrl-letters in a run (Ctrl-U, then a
 * paste) are Ctrl keys, not dropped. Escape sequences never arrive here: ink splits them off.
 */
export function splitKeys(input: string, key: Key): Array<[string, Key]> {
  // Ink hands single special keys (arrows, Tab, Backspace) with an empty input.
  // eslint-disable-next-line no-control-regex
  if (!/[\u0000-\u001f\u007f]/.test(input)) return [[input, key]];
  const out: Array<[string, Key]> = [];
  let run = "";
  const flush = (): void => {
    if (run) out.push([run, NO_KEY]);
    run = "";
  };
  for (const ch of input) {
    if (ch === "\r" || ch === "\n") {
      flush();
      out.push(["", { ...NO_KEY, return: true }]);
    } else if (ch === "\x7f" || ch === "\b") {
      flush();
      out.push(["", { ...NO_KEY, delete: true }]);
    } else if (ch === "\t") {
      flush();
      out.push(["", { ...NO_KEY, tab: true }]);
    } else if (ch >= "\x01" && ch <= "\x1a") {
      // Ctrl-A … Ctrl-Z as ink reports one read alone: the letter, with ctrl.
      flush();
      out.push([String.fromCharCode(ch.charCodeAt(0) + 0x60), { ...NO_KEY, ctrl: true }]);
    } else if (ch >= " ") {
      run += ch;
    }
  }
  flush();
  return out;
}

/** useInput, one call per key press (see splitKeys). */
export function useKeys(handler: (input: string, key: Key) => void): void {
  useInput((input, key) => {
    for (const [i, k] of splitKeys(input, key)) handler(i, k);
  });
}
