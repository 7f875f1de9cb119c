import type { ReactNode } from "react";
import { Text } from "./text.js";
import type { RoomView } from "../chat-state.js";
import { Panel } from "./panel.js";

export const NO_ROOM_SELECTED = "Join at least one room to start chatting!";

/** The active room's name and description. */
export function RoomHeader(props: { room: RoomView | undefined; width: number }): ReactNode {
  const room = props.room;
  return (
    <Panel title="Active Room Information" width={props.width} height={3}>
      {room === undefined ? (
        <Text wrap="truncate">{NO_ROOM_SELECTED}</Text>
      ) : (
        <Text wrap="truncate">
          on <Text bold>#{room.name}</Text> for <Text italic>&quot;{room.description}&quot;</Text>
          {room.joined ? "" : room.wanted ? " (joining…)" : " (not joined: Enter on it to join)"}
        </Text>
      )}
    </Panel>
  );
}
