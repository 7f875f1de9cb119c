import type { ReactNode } from "react";
import { Text } from "./text.js";
import type { RoomView } from "../chat-state.js";
import { windowStart } from "../layout.js";
import { type Focus, Panel } from "./panel.js";

/**
 * The rooms, in the server's order: `●` joined, `◌` joining (or rejoining after a reconnect),
 * `*N` unread messages. The active room is bold; while the list is being navigated the row under
 * the cursor is highlighted with `>`.
 */
export function RoomList(props: {
  rooms: readonly RoomView[];
  active: string | undefined;
  cursor: number | undefined;
  focus: Focus;
  width: number;
  height: number;
}): ReactNode {
  const rows = Math.max(1, props.height - 2);
  const activeIndex = props.rooms.findIndex((r) => r.name === props.active);
  const focusIndex = props.cursor ?? Math.max(0, activeIndex);
  const start = windowStart(props.rooms.length, rows, focusIndex);
  const shown = props.rooms.slice(start, start + rows);
  return (
    <Panel title="Rooms" width={props.width} height={props.height} focus={props.focus}>
      {shown.map((room, i) => {
        const index = start + i;
        const selected = props.cursor === index;
        const mark = room.joined ? "●" : room.wanted ? "◌" : " ";
        const unread = room.unread > 0 ? ` *${room.unread}` : "";
        return (
          <Text
            key={room.name}
            wrap="truncate"
            inverse={selected}
            bold={selected || (props.cursor === undefined && room.name === props.active)}
            italic={room.unread > 0}
            color={room.unread > 0 ? "yellow" : room.joined ? "green" : undefined}
          >
            {`${selected ? ">" : " "}${mark}#${room.name}${unread}`}
          </Text>
        );
      })}
    </Panel>
  );
}
