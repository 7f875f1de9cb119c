import type { ReactNode } from "react";
import { Text } from "./text.js";
import type { MemberInfo } from "../../../src/protocol/index.js";
import { Panel } from "./panel.js";

/** The active room's members (what user_joined_room and room_participation said). */
export function MemberList(props: {
  members: readonly MemberInfo[];
  selfId: string | undefined;
  width: number;
  height: number;
}): ReactNode {
  const rows = Math.max(1, props.height - 2);
  const all = props.members;
  const overflow = all.length > rows;
  const shown = overflow ? all.slice(0, rows - 1) : all;
  return (
    <Panel title={`Room Users (${all.length})`} width={props.width} height={props.height}>
      {shown.map((m) => (
        <Text key={m.u} wrap="truncate" bold={m.u === props.selfId}>
          @{m.n}
          {m.u === props.selfId ? " (you)" : ""}
        </Text>
      ))}
      {overflow ? <Text dimColor>+{all.length - shown.length} more</Text> : null}
    </Panel>
  );
}
