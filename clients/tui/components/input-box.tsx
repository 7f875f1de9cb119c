import type { ReactNode } from "react";
import { Text } from "./text.js";
import type { LineEditor } from "../line-editor.js";
import { type Focus, Panel } from "./panel.js";

/** A one-line input; when active, the cursor is shown and the view follows it. */
export function InputBox(props: {
  title: string;
  editor: LineEditor;
  focus: Focus;
  width: number;
  placeholder?: string;
}): ReactNode {
  return (
    <Panel title={props.title} width={props.width} height={3} focus={props.focus}>
      <EditorText
        editor={props.editor}
        active={props.focus === "active"}
        width={props.width - 4}
        placeholder={props.placeholder}
      />
    </Panel>
  );
}

export function EditorText(props: {
  editor: LineEditor;
  active: boolean;
  width: number;
  placeholder?: string | undefined;
}): ReactNode {
  const { text, cursor } = props.editor;
  if (text.length === 0 && !props.active) {
    return (
      <Text dimColor wrap="truncate">
        {props.placeholder ?? ""}
      </Text>
    );
  }
  const width = Math.max(2, props.width);
  const start = Math.max(0, cursor - width + 1);
  const visible = text.slice(start, start + width);
  const at = cursor - start;
  if (!props.active) {
    return (
      <Text color="yellow" wrap="truncate">
        {visible}
      </Text>
    );
  }
  return (
    <Text color="yellow" wrap="truncate">
      {visible.slice(0, at)}
      <Text inverse>{visible[at] ?? " "}</Text>
      {visible.slice(at + 1)}
    </Text>
  );
}
