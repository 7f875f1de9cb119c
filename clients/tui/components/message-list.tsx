import type { ReactNode } from "react";
import { Text } from "./text.js";
import type { Line, PendingView, RoomView } from "../chat-state.js";
import { rowsOf, tailWindow } from "../layout.js";
import { type Focus, Panel } from "./panel.js";
import { NO_ROOM_SELECTED } from "./room-header.js";

type Item =
  | Line
  | { kind: "pending"; id: string; name: string; text: string }
  | { kind: "loading"; id: string };

/** Shown above the oldest message while an older page is on its way. */
export const LOADING_OLDER = "↑ loading older messages…";

function plain(item: Item): string {
  switch (item.kind) {
    case "message":
      return `@${item.name}: ${item.text}`;
    case "notice":
    case "divider":
      return item.text;
    case "pending":
      return `@${item.name}: ${item.text} (sending…)`;
    case "loading":
      return LOADING_OLDER;
  }
}

/**
 * The active room's messages and join/leave notices, newest at the bottom, then our messages
 * still waiting for the server. `scroll` is how many items back from the newest the view ends
 * (scrollback); a marker says how many newer ones are below. Older pages come in above (the
 * view, counted from the newest, stays where it is); a dim divider follows a join's backlog.
 */
export function MessageList(props: {
  room: RoomView | undefined;
  pending: readonly PendingView[];
  selfName: string;
  scroll: number;
  focus: Focus;
  width: number;
  height: number;
}): ReactNode {
  const room = props.room;
  const title = props.scroll > 0 ? "Messages (scrolled back)" : "Messages";
  if (room === undefined) {
    return (
      <Panel title={title} width={props.width} height={props.height} focus={props.focus}>
        <Text>{NO_ROOM_SELECTED}</Text>
      </Panel>
    );
  }
  const items: Item[] = [
    ...(room.loadingOlder ? [{ kind: "loading", id: "older" } as const] : []),
    ...room.lines,
    ...props.pending
      .filter((p) => p.room === room.name)
      .map((p): Item => ({ kind: "pending", id: p.cid, name: props.selfName, text: p.text })),
  ];
  const inner = Math.max(1, props.width - 4);
  let rows = Math.max(1, props.height - 2);
  if (props.scroll > 0) rows -= 1;
  const win = tailWindow(items, rows, props.scroll, (it) => rowsOf(plain(it), inner));
  return (
    <Panel
      title={title}
      width={props.width}
      height={props.height}
      focus={props.focus}
      justify="flex-end"
    >
      {win.shown.map((item) => (
        <MessageLine key={`${item.kind}-${item.id}`} item={item} />
      ))}
      {props.scroll > 0 ? (
        <Text color="blue" wrap="truncate">
          ↓ {win.below} newer (PgDn)
        </Text>
      ) : null}
    </Panel>
  );
}

function MessageLine({ item }: { item: Item }): ReactNode {
  switch (item.kind) {
    case "message":
      return (
        <Text wrap="wrap">
          <Text bold color={item.own ? "green" : "cyan"}>
            @{item.name}
          </Text>
          : {item.text}
        </Text>
      );
    case "notice":
      return (
        <Text wrap="wrap" italic dimColor>
          {item.text}
        </Text>
      );
    case "divider":
    case "loading":
      return (
        <Text wrap="truncate" dimColor>
          {plain(item)}
        </Text>
      );
    case "pending":
      return (
        <Text wrap="wrap" dimColor>
          @{item.name}: {item.text} (sending…)
        </Text>
      );
  }
}
