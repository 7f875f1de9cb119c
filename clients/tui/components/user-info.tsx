import type { ReactNode } from "react";
import { Text } from "./text.js";
import type { ConnectionStatus } from "../../lib/parley-client.js";
import { formatDuration, keepEnd } from "../layout.js";
import { Panel } from "./panel.js";

const SERVER_LABEL = "Server: ";
/** columns of a panel's width that are not content: borders and padding (panel.tsx) */
const PANEL_PADDING = 4;

/**
 * Who we are, for how long, the state of the connection (reconnects are visible here) and the
 * server it is to (with several, the one in use).
 */
export function UserInfo(props: {
  name: string | undefined;
  userId: string | undefined;
  status: ConnectionStatus | undefined;
  connectedSince: number | undefined;
  pending: number;
  now: number;
  width: number;
  height: number;
}): ReactNode {
  const { name, userId } = props;
  const who = name !== undefined && name !== userId ? `@${name} (${userId})` : `@${userId ?? "?"}`;
  const since = props.connectedSince === undefined ? 0 : props.now - props.connectedSince;
  return (
    <Panel title="User Information" width={props.width} height={props.height}>
      <Text wrap="truncate">User: {who}</Text>
      <Text wrap="truncate">Chatting for: {formatDuration(since)}</Text>
      <StatusLine status={props.status} now={props.now} />
      {props.status !== undefined ? (
        // the end of an address (its port) is what tells a cluster's nodes apart
        <Text wrap="truncate">
          {SERVER_LABEL}
          {keepEnd(
            // as typed: host:port is line-delimited TCP
            props.status.server.replace(/^tcp:\/\//, ""),
            props.width - PANEL_PADDING - SERVER_LABEL.length,
          )}
        </Text>
      ) : null}
      {props.pending > 0 ? (
        <Text wrap="truncate" color="yellow">
          {props.pending} unsent
        </Text>
      ) : null}
    </Panel>
  );
}

export function StatusLine(props: {
  status: ConnectionStatus | undefined;
  now: number;
}): ReactNode {
  const s = props.status;
  if (s === undefined) return <Text dimColor>not connected</Text>;
  switch (s.state) {
    case "connected":
      return (
        <Text color="green" wrap="truncate">
          ● online
        </Text>
      );
    case "idle":
    case "connecting":
      return (
        <Text color="yellow" wrap="truncate">
          ◌ connecting{s.attempt > 0 ? ` (attempt ${s.attempt + 1})` : ""}…
        </Text>
      );
    case "waiting": {
      const secs = Math.max(0, Math.ceil(((s.retryAt ?? props.now) - props.now) / 1000));
      return (
        <Text color="yellow" wrap="truncate">
          ↻ retry in {secs}s (r)
        </Text>
      );
    }
    case "closed":
      return (
        <Text color="red" wrap="truncate">
          ✕ closed{s.lastError ? `: ${s.lastError}` : ""}
        </Text>
      );
  }
}
