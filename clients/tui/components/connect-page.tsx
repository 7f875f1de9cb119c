import { Box } from "ink";
import { type ReactNode, useRef, useState } from "react";
import { Text } from "./text.js";
import { useKeys } from "../keys.js";
import { editLine, editorWith, type LineEditor } from "../line-editor.js";
import { InputBox } from "./input-box.js";

/** The original's default server address. */
export const DEFAULT_SERVER_ADDRESS = "localhost:8080";

/**
 * Asks for the server address (prefilled), connects on Enter, and shows why the last attempt
 * failed. Also accepted: lp://host:port (length-prefixed TCP), ws://host:port/ws, and several
 * addresses separated by commas (the nodes of a cluster, tried in turn).
 */
export function ConnectPage(props: {
  initialAddress?: string;
  connecting: boolean;
  error: string | undefined;
  onConnect(address: string): void;
  onQuit(): void;
  width: number;
  height: number;
}): ReactNode {
  const [editor, setEditor] = useState<LineEditor>(() =>
    editorWith(props.initialAddress ?? DEFAULT_SERVER_ADDRESS),
  );
  const ref = useRef(editor);
  useKeys((input, key) => {
    if ((key.ctrl && input === "c") || key.escape) return props.onQuit();
    const text = ref.current.text.trim();
    if (key.return) {
      if (text !== "" && !props.connecting) props.onConnect(text);
      return;
    }
    ref.current = editLine(ref.current, input, key);
    setEditor(ref.current);
  });
  const boxWidth = Math.min(props.width, Math.max(40, Math.floor(props.width / 3)));
  return (
    <Box
      width={props.width}
      height={props.height}
      flexDirection="column"
      alignItems="center"
      justifyContent="center"
    >
      <Box flexDirection="column" width={boxWidth}>
        <InputBox title="Server Host and Port" editor={editor} focus="active" width={boxWidth} />
        <Text>
          Press <Text bold>{"<Enter>"}</Text> to connect, <Text bold>{"<Esc>"}</Text> to quit
        </Text>
        <Text dimColor wrap="wrap">
          A cluster: its nodes separated by commas
        </Text>
        {props.connecting ? <Text color="yellow">Connecting…</Text> : null}
        {props.error !== undefined ? (
          <Text color="red" italic wrap="wrap">
            Error: {props.error}
          </Text>
        ) : null}
      </Box>
    </Box>
  );
}
