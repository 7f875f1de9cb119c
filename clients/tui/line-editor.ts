import type { Key } from "ink";

/** A one-line text field: its text and the cursor position (0..text.length, in code units). */
export interface LineEditor {
  text: string;
  cursor: number;
}

export const emptyEditor: LineEditor = { text: "", cursor: 0 };

export function editorWith(text: string): LineEditor {
  return { text, cursor: text.length };
}

/**
 * Applies one key press. Handles printable input (a paste arrives as several characters at
 * once), Backspace (terminals send DEL, which ink reports as `delete`), ←/→, Home/End, Ctrl-A/E
 * (start/end), Ctrl-U (clear to start) and Ctrl-W (delete the word before the cursor).
 * Returns the same object when the key does not edit.
 */
export function editLine(ed: LineEditor, input: string, key: Key): LineEditor {
  const { text, cursor } = ed;
  if (key.backspace || key.delete) {
    if (cursor === 0) return ed;
    return { text: text.slice(0, cursor - 1) + text.slice(cursor), cursor: cursor - 1 };
  }
  if (key.leftArrow) return { text, cursor: Math.max(0, cursor - 1) };
  if (key.rightArrow) return { text, cursor: Math.min(text.length, cursor + 1) };
  if (key.home || (key.ctrl && input === "a")) return { text, cursor: 0 };
  if (key.end || (key.ctrl && input === "e")) return { text, cursor: text.length };
  if (key.ctrl && input === "u") return { text: text.slice(cursor), cursor: 0 };
  if (key.ctrl && input === "w") {
    const start = text.slice(0, cursor).replace(/\S+\s*$/, "").length;
    return { text: text.slice(0, start) + text.slice(cursor), cursor: start };
  }
  if (key.ctrl || key.meta || key.escape || key.return || key.tab) return ed;
  if (key.upArrow || key.downArrow || key.pageUp || key.pageDown) return ed;
  // eslint-disable-next-line no-control-regex
  const clean = input.replace(/[\u0000-\u001f\u007f]/g, "");
  if (clean.length === 0) return ed;
  return {
    text: text.slice(0, cursor) + clean + text.slice(cursor),
    cursor: cursor + clean.length,
  };
}
