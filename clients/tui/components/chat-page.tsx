import { Box } from "ink";
import { type ReactNode, useEffect, useRef, useState } from "react";
import { Text } from "./text.js";
import { type ChatEffect, type ChatUi, initialUi, stepKey } from "../chat-keys.js";
import { activeRoom, type ChatState } from "../chat-state.js";
import { useKeys } from "../keys.js";
import { columns } from "../layout.js";
import { HelpPanel, usageFor } from "./help-panel.js";
import { InputBox } from "./input-box.js";
import { MemberList } from "./member-list.js";
import { MessageList } from "./message-list.js";
import type { Focus } from "./panel.js";
import { RoomHeader } from "./room-header.js";
import { RoomList } from "./room-list.js";
import { UserInfo } from "./user-info.js";

export interface ChatActions {
  selectRoom: (room: string) => void;
  leave: (room?: string) => void;
  submit: (line: string) => void;
  reconnectNow: () => void;
  /** loads the active room's older messages (the user scrolled up to the oldest loaded) */
  loadOlder: () => void;
  quit: () => void;
}

/** Height of the user information box (left column, bottom). */
const USER_INFO_ROWS = 7;

/**
 * The three-column chat page of the original TUI: rooms and user information; the active room,
 * its messages and the input; its members and the usage help (which follows the focus).
 *
 * Keys, as in the original: ←/→ (or Tab) hover a widget, `e` or Enter activates it, Esc leaves
 * it, `q` quits. Added: `/` starts a command in the input, PgUp/PgDn scroll the messages from
 * anywhere (scrolling up to the oldest messages loads older ones), `l` leaves the room under the
 * cursor, `r` reconnects now while offline, Ctrl-C quits.
 * The key logic itself is chat-keys.ts.
 */
export function ChatPage(props: {
  state: ChatState;
  actions: ChatActions;
  now: number;
  width: number;
  height: number;
}): ReactNode {
  const { state, actions, width, height } = props;
  const [ui, setUi] = useState<ChatUi>(initialUi);
  const uiRef = useRef(ui);
  const room = activeRoom(state);
  const cols = columns(width);
  const messagesHeight = Math.max(4, height - 3 - 3 - 1);
  const items =
    (room?.lines.length ?? 0) + state.pending.filter((p) => p.room === room?.name).length;

  const apply = (next: ChatUi): void => {
    uiRef.current = next;
    setUi(next);
  };
  useEffect(() => apply({ ...uiRef.current, scroll: 0 }), [state.active]);

  const run = (effect: ChatEffect): void => {
    switch (effect.kind) {
      case "select":
        return actions.selectRoom(effect.room);
      case "leave":
        return actions.leave(effect.room);
      case "submit":
        return actions.submit(effect.line);
      case "reconnect":
        return actions.reconnectNow();
      case "older":
        return actions.loadOlder();
      case "quit":
        return actions.quit();
    }
  };

  useKeys((input, key) => {
    const ctx = { rooms: state.rooms, activeRoom: state.active, page: messagesHeight - 3, items };
    const [next, effect] = stepKey(uiRef.current, input, key, ctx);
    if (next !== uiRef.current) apply(next);
    if (effect !== undefined) run(effect);
  });

  const focusOf = (s: ChatUi["hovered"]): Focus =>
    ui.active === s
      ? "active"
      : ui.active === undefined && ui.hovered === s
        ? "hovered"
        : undefined;
  const usage = usageFor(ui.active, ui.hovered, {
    inRoom: room?.wanted === true,
    offline: state.status?.state === "waiting",
  });
  const helpHeight = Math.min(12, Math.max(6, Math.floor(height / 2)));

  return (
    <Box flexDirection="row" width={width} height={height}>
      <Box flexDirection="column" width={cols.left}>
        <RoomList
          rooms={state.rooms}
          active={state.active}
          cursor={ui.active === "rooms" ? ui.cursor : undefined}
          focus={focusOf("rooms")}
          width={cols.left}
          height={height - USER_INFO_ROWS}
        />
        <UserInfo
          name={state.name}
          userId={state.userId}
          status={state.status}
          connectedSince={state.connectedSince}
          pending={state.pending.length}
          now={props.now}
          width={cols.left}
          height={USER_INFO_ROWS}
        />
      </Box>
      <Box flexDirection="column" width={cols.middle}>
        <RoomHeader room={room} width={cols.middle} />
        <MessageList
          room={room}
          pending={state.pending}
          selfName={state.name ?? state.userId ?? "me"}
          scroll={ui.scroll}
          focus={focusOf("messages")}
          width={cols.middle}
          height={messagesHeight}
        />
        <InputBox
          title="Input"
          editor={ui.editor}
          focus={focusOf("input")}
          width={cols.middle}
          placeholder={room ? `message #${room.name}, or /help` : "/join <room>, or /help"}
        />
        <Text wrap="truncate" color={state.flash?.error ? "red" : "gray"}>
          {state.flash?.text ?? " "}
        </Text>
      </Box>
      <Box flexDirection="column" width={cols.right}>
        <MemberList
          members={room?.members ?? []}
          selfId={state.userId}
          width={cols.right}
          height={height - helpHeight}
        />
        <HelpPanel usage={usage} width={cols.right} height={helpHeight} />
      </Box>
    </Box>
  );
}
