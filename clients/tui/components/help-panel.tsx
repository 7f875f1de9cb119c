import type { ReactNode } from "react";
import { Text } from "./text.js";
import type { Section } from "../chat-keys.js";
import { Panel } from "./panel.js";

export const SECTION_NAMES: Record<Section, string> = {
  rooms: "Room List",
  messages: "Messages",
  input: "Message Input",
};

export interface Usage {
  description: string;
  keys: ReadonlyArray<[keys: string, what: string]>;
}

/** What the keys do right now: the help follows the focus, as the original's usage panel. */
export function usageFor(
  active: Section | undefined,
  hovered: Section,
  ctx: { inRoom: boolean; offline: boolean },
): Usage {
  switch (active) {
    case "rooms":
      return {
        description: "Select the room to talk in",
        keys: [
          ["Esc", "to cancel"],
          ["↑ ↓", "to navigate"],
          ["Enter", "to join room"],
          ["l", "to leave room"],
        ],
      };
    case "messages":
      return {
        description: "Scroll back through the messages",
        keys: [
          ["Esc", "to cancel"],
          ["↑ ↓", "one line"],
          ["PgUp PgDn", "one page"],
          ["Home End", "oldest / newest"],
        ],
      };
    case "input":
      return ctx.inRoom
        ? {
            description: "Type your message to send a message to the active room",
            keys: [
              ["Esc", "to cancel"],
              ["Enter", "to send your message"],
              ["/help", "for commands"],
            ],
          }
        : {
            description: "You can not send a message until you enter a room.",
            keys: [
              ["Esc", "to cancel"],
              ["/join room", "to enter one"],
            ],
          };
    case undefined:
      return {
        description: "Select a widget",
        keys: [
          ["q", "to exit"],
          ["← →", "to hover widgets"],
          ["e", `to activate ${SECTION_NAMES[hovered]}`],
          ["/", "to type a command"],
          ["PgUp PgDn", "to scroll"],
          ...(ctx.offline ? [["r", "to reconnect now"] as [string, string]] : []),
        ],
      };
  }
}

export function HelpPanel(props: { usage: Usage; width: number; height: number }): ReactNode {
  return (
    <Panel title="Usage" width={props.width} height={props.height}>
      <Text wrap="wrap">{props.usage.description}</Text>
      {props.usage.keys.map(([keys, what]) => (
        <Text key={keys} wrap="wrap">
          <Text bold color="yellow">
            {keys}
          </Text>{" "}
          {what}
        </Text>
      ))}
    </Panel>
  );
}
