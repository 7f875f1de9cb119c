import { useApp, useStdout } from "ink";
import { type ReactNode, useEffect, useMemo, useState, useSyncExternalStore } from "react";
import { Text } from "./components/text.js";
import type { ChatController } from "./chat-controller.js";
import { ChatPage, type ChatActions } from "./components/chat-page.js";
import { ConnectPage } from "./components/connect-page.js";

/**
 * The TUI: the connect page until the first connection succeeds, then the chat page (which stays
 * through reconnects). Exits when the user quits.
 */
export function App(props: {
  controller: ChatController;
  /** prefills the connect page. Default DEFAULT_SERVER_ADDRESS */
  initialAddress?: string;
  /**
   * Connects to initialAddress at once, as Enter on the connect page would (the address came
   * from the command line). A failure leaves the connect page up with the error, to edit.
   */
  connectAtStart?: boolean;
  /** clock for "Chatting for" and the reconnect countdown. Default Date.now */
  now?: () => number;
  /** fixed size (tests); by default the terminal's, following resizes */
  size?: { width: number; height: number };
}): ReactNode {
  const { controller } = props;
  const state = useSyncExternalStore(controller.subscribe, controller.getState);
  const { exit } = useApp();
  const size = useTerminalSize(props.size);
  const now = useNow(props.now ?? Date.now);
  useEffect(() => {
    if (state.page === "bye") exit();
  }, [state.page, exit]);
  const startAddress = props.connectAtStart === true ? props.initialAddress : undefined;
  useEffect(() => {
    if (startAddress !== undefined) void controller.connect(startAddress.trim());
  }, [controller, startAddress]);
  const actions = useMemo<ChatActions>(
    () => ({
      selectRoom: (room) => controller.selectRoom(room),
      leave: (room) => controller.leave(room),
      submit: (line) => controller.submit(line),
      reconnectNow: () => controller.reconnectNow(),
      loadOlder: () => controller.loadOlder(),
      quit: () => void controller.quit(),
    }),
    [controller],
  );
  switch (state.page) {
    case "connect":
      return (
        <ConnectPage
          {...(props.initialAddress !== undefined && { initialAddress: props.initialAddress })}
          connecting={state.connecting}
          error={state.connectError}
          onConnect={(address) => void controller.connect(address)}
          onQuit={actions.quit}
          width={size.width}
          height={size.height}
        />
      );
    case "chat":
      return (
        <ChatPage
          state={state}
          actions={actions}
          now={now}
          width={size.width}
          height={size.height}
        />
      );
    case "bye":
      return <Text>Bye.</Text>;
  }
}

/** The terminal's size, one row short: ink redraws the whole screen when output fills it. */
function useTerminalSize(fixed?: { width: number; height: number }): {
  width: number;
  height: number;
} {
  const { stdout } = useStdout();
  const read = (): { width: number; height: number } =>
    fixed ?? { width: stdout.columns || 100, height: Math.max(10, (stdout.rows || 30) - 1) };
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (fixed !== undefined) return;
    const onResize = (): void => setSize(read());
    stdout.on("resize", onResize);
    return () => {
      stdout.off("resize", onResize);
    };
  }, [stdout, fixed]);
  return fixed ?? size;
}

/** The time, refreshed every second (for the timers on screen). */
function useNow(now: () => number): number {
  const [t, setT] = useState(now);
  useEffect(() => {
    const timer = setInterval(() => setT(now()), 1_000);
    return () => clearInterval(timer);
  }, [now]);
  return t;
}
