import { Text as InkText, type TextProps } from "ink";
import { Children, type ReactNode } from "react";
import { terminalText } from "../terminal-text.js";

/**
 * Ink's Text, with every string child passed through terminalText: the one way the TUI puts text
 * on the terminal, so text from the network can never carry escape sequences to it (eslint
 * forbids Ink's own Text elsewhere in clients/tui). Nested Texts are this one too.
 */
export function Text(props: TextProps): ReactNode {
  const children = Children.map(props.children, (c) =>
    typeof c === "string" ? terminalText(c) : c,
  );
  return <InkText {...props}>{children}</InkText>;
}
