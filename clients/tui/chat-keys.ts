/**
 * The chat page's keyboard handling as a pure step function: (UI state, key) -> (UI state,
 * effects). Keys read in one chunk are stepped through in order, each seeing the state the
 * previous one left, and the effects run in between (see ChatPage).
 */
import type { Key } from "ink";
import type { RoomView } from "./chat-state.js";
import { editLine, editorWith, emptyEditor, type LineEditor } from "./line-editor.js";

export type Section = "rooms" | "messages" | "input";
export const SECTIONS: readonly Section[] = ["rooms", "messages", "input"];

export interface ChatUi {
  /** the widget ←/→ point at; `e` or Enter activates it */
  hovered: Section;
  /** the widget receiving keys, if any */
  active: Section | undefined;
  /** room list cursor while it is active */
  cursor: number;
  /** message items back from the newest (scrollback); 0 follows new messages */
  scroll: number;
  editor: LineEditor;
}

export const initialUi: ChatUi = {
  hovered: "input",
  active: undefined,
  cursor: 0,
  scroll: 0,
  editor: emptyEditor,
};

export type ChatEffect =
  | { kind: "select"; room: string }
  | { kind: "leave"; room: string }
  | { kind: "submit"; line: string }
  | { kind: "reconnect" }
  /** the view reached the oldest loaded messages: load older ones */
  | { kind: "older" }
  | { kind: "quit" };

export interface KeyContext {
  rooms: readonly RoomView[];
  activeRoom: string | undefined;
  /** rows a PgUp/PgDn moves */
  page: number;
  /** items in the active room's view (for the scrollback bound) */
  items: number;
}

export function stepKey(
  ui: ChatUi,
  input: string,
  key: Key,
  ctx: KeyContext,
): [ChatUi, ChatEffect | undefined] {
  const top = Math.max(0, ctx.items - 1);
  const scrollBy = (n: number): ChatUi => ({
    ...ui,
    scroll: Math.min(top, Math.max(0, ui.scroll + n)),
  });
  // Scrolling up to within a page of the oldest item asks for older messages (prefetch).
  const up = (next: ChatUi): [ChatUi, ChatEffect | undefined] => [
    next,
    next.scroll >= Math.max(0, ctx.items - ctx.page) ? { kind: "older" } : undefined,
  ];
  if (key.ctrl && input === "c") return [ui, { kind: "quit" }];
  if (key.pageUp) return up(scrollBy(ctx.page));
  if (key.pageDown) return [scrollBy(-ctx.page), undefined];
  switch (ui.active) {
    case undefined: {
      const i = SECTIONS.indexOf(ui.hovered);
      const n = SECTIONS.length;
      if (key.leftArrow || (key.tab && key.shift)) {
        return [{ ...ui, hovered: SECTIONS[(i + n - 1) % n]! }, undefined];
      }
      if (key.rightArrow || key.tab) return [{ ...ui, hovered: SECTIONS[(i + 1) % n]! }, undefined];
      if (input === "e" || key.return) return [activate(ui, ui.hovered, ctx), undefined];
      if (input.startsWith("/")) {
        // "/" starts a command; a fast typist's whole "/join x" may arrive as one input
        return [{ ...activate(ui, "input", ctx), editor: editorWith(input) }, undefined];
      }
      if (input === "i") return [activate(ui, "input", ctx), undefined];
      if (input === "q") return [ui, { kind: "quit" }];
      if (input === "r") return [ui, { kind: "reconnect" }];
      return [ui, undefined];
    }
    case "rooms": {
      const n = ctx.rooms.length;
      const at = ctx.rooms[ui.cursor];
      if (key.escape) return [{ ...ui, active: undefined }, undefined];
      if (key.upArrow && n > 0) return [{ ...ui, cursor: (ui.cursor + n - 1) % n }, undefined];
      if (key.downArrow && n > 0) return [{ ...ui, cursor: (ui.cursor + 1) % n }, undefined];
      if (key.return && at)
        return [
          { ...ui, active: undefined },
          { kind: "select", room: at.name },
        ];
      if (input === "l" && at) return [ui, { kind: "leave", room: at.name }];
      return [ui, undefined];
    }
    case "messages": {
      if (key.escape) return [{ ...ui, active: undefined }, undefined];
      if (key.upArrow) return up(scrollBy(1));
      if (key.downArrow) return [scrollBy(-1), undefined];
      if (key.home) return up({ ...ui, scroll: top });
      if (key.end) return [{ ...ui, scroll: 0 }, undefined];
      return [ui, undefined];
    }
    case "input": {
      if (key.escape) return [{ ...ui, active: undefined }, undefined];
      if (key.return) {
        const line = ui.editor.text;
        return [
          { ...ui, editor: emptyEditor, scroll: 0 },
          { kind: "submit", line },
        ];
      }
      const editor = editLine(ui.editor, input, key);
      return [editor === ui.editor ? ui : { ...ui, editor }, undefined];
    }
  }
}

function activate(ui: ChatUi, section: Section, ctx: KeyContext): ChatUi {
  const next = { ...ui, hovered: section, active: section };
  if (section === "rooms") {
    next.cursor = Math.max(
      0,
      ctx.rooms.findIndex((r) => r.name === ctx.activeRoom),
    );
  }
  return next;
}
