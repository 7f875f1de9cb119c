import { Box } from "ink";
import type { ReactNode } from "react";
import { Text } from "./text.js";

/** How a panel relates to keyboard focus: being typed in, or selected for activation. */
export type Focus = "active" | "hovered" | undefined;

export function focusColor(focus: Focus): string {
  return focus === "active" ? "yellow" : focus === "hovered" ? "blue" : "gray";
}

/**
 * A bordered box with its title in the top border, as ratatui draws blocks. Its content area is
 * (width - 4) x (height - 2): one border each side plus one column of padding.
 */
export function Panel(props: {
  title: string;
  width: number;
  height: number;
  focus?: Focus;
  children?: ReactNode;
  justify?: "flex-start" | "flex-end";
}): ReactNode {
  const color = focusColor(props.focus);
  const room = Math.max(0, props.width - 5);
  const title = props.title.length > room ? props.title.slice(0, room) : props.title;
  const top = `┌ ${title} ${"─".repeat(Math.max(0, props.width - title.length - 4))}┐`;
  return (
    <Box flexDirection="column" width={props.width} height={props.height} flexShrink={0}>
      <Text color={color} bold={props.focus !== undefined} wrap="truncate">
        {top}
      </Text>
      <Box
        flexDirection="column"
        borderStyle="single"
        borderTop={false}
        borderColor={color}
        flexGrow={1}
        paddingX={1}
        overflow="hidden"
        justifyContent={props.justify ?? "flex-start"}
      >
        {props.children}
      </Box>
    </Box>
  );
}
