/**
 * Between the client library and the screen: owns the ParleyClient, turns its events into
 * ChatState (chat-state.ts) and the user's actions into client calls. React reads it through
 * useSyncExternalStore (subscribe / getState).
 */
import type { Event } from "../../src/protocol/index.js";
import { ClientError } from "../lib/errors.js";
import type { ParleyClient } from "../lib/parley-client.js";
import { COMMAND_HELP, parseInput } from "./commands.js";
import {
  type ChatState,
  initialState,
  withActive,
  withEvent,
  withFlash,
  withLogin,
  withNotice,
  withPending,
  withStatus,
  withWanted,
} from "./chat-state.js";
import {
  OLDER_PAGE,
  wantsOlder,
  withJoined,
  withOlder,
  withOlderFailed,
  withOlderLoading,
} from "./room-history.js";

/** Makes a client for what was typed on the connect page; throws ClientError on a bad address. */
export type ClientFactory = (address: string) => ParleyClient;

export interface ChatControllerOptions {
  now?: () => number;
  /** time close() may take to say goodbye before we exit anyway, in ms. Default 2,000 */
  quitTimeoutMs?: number;
}

export class ChatController {
  private state: ChatState = initialState;
  private readonly listeners = new Set<() => void>();
  private client: ParleyClient | undefined;
  private unsubscribe: Array<() => void> = [];
  /** cids of our messages awaiting their echo: the echo is shown as ours even after a reconnect */
  private readonly now: () => number;
  private readonly quitTimeoutMs: number;

  constructor(
    private readonly factory: ClientFactory,
    options: ChatControllerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.quitTimeoutMs = options.quitTimeoutMs ?? 2_000;
  }

  readonly subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  readonly getState = (): ChatState => this.state;

  /** Applies `f` to the state. A throwing update (a bug, or an event we cannot read) is shown, never fatal. */
  private update(f: (s: ChatState) => ChatState): void {
    let next: ChatState;
    try {
      next = f(this.state);
    } catch (err) {
      next = withFlash(this.state, `ignored an unexpected event: ${String(err)}`, true);
    }
    if (next === this.state) return;
    this.state = next;
    for (const fn of [...this.listeners]) fn();
  }

  // ---------------------------------------------------------------- connection

  async connect(address: string): Promise<void> {
    if (this.state.connecting || this.client !== undefined) return;
    let client: ParleyClient;
    try {
      client = this.factory(address);
    } catch (err) {
      this.update((s) => ({ ...s, connectError: messageOf(err) }));
      return;
    }
    this.attach(client);
    this.update((s) => ({ ...s, connecting: true, connectError: undefined }));
    try {
      await client.connect();
    } catch (err) {
      this.detach();
      this.update((s) => ({ ...s, connecting: false, connectError: messageOf(err) }));
    }
  }

  private attach(client: ParleyClient): void {
    this.client = client;
    this.unsubscribe = [
      client.on("status", (status) => this.update((s) => withStatus(s, status))),
      client.on("ready", (session) =>
        this.update((s) => withLogin(s, session, client.rooms, this.now())),
      ),
      client.on("event", (ev) => this.onEvent(ev)),
      client.on("joined", (j) => this.update((s) => withJoined(s, j))),
      client.on("outbox", () =>
        this.update((s) =>
          withPending(
            s,
            client.pending.map((e) => ({ cid: e.cid, room: e.room, text: e.text })),
          ),
        ),
      ),
      client.on("failed", (f) => {
        this.update((s) =>
          withFlash(s, `not delivered to #${f.room}: ${f.message} (${f.code})`, true),
        );
      }),
    ];
  }

  private detach(): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.client = undefined;
  }

  private onEvent(ev: Event): void {
    // Another user's message may carry the same cid (cids are per client): ask the library,
    // which knows this client's sessions, not the cid alone.
    const own = ev._et === "user_message" && this.client?.isOwn(ev) === true;
    this.update((s) => withEvent(s, ev, own));
  }

  reconnectNow(): void {
    this.client?.reconnectNow();
  }

  /**
   * Asks for the page of messages before the oldest shown in a room (the active one by default),
   * when there may be one and none is on its way; online only.
   */
  loadOlder(room = this.state.active): void {
    const client = this.client;
    const view = this.state.rooms.find((r) => r.name === room);
    if (client === undefined || room === undefined || view === undefined) return;
    if (!wantsOlder(view) || this.state.status?.state !== "connected") return;
    const before = view.olderBefore;
    this.update((s) => withOlderLoading(s, room));
    client.history(room, { before, limit: OLDER_PAGE }).then(
      (page) => this.update((s) => withOlder(s, page, (m) => client.isOwn(m))),
      (err: unknown) => this.update((s) => withOlderFailed(s, room, messageOf(err))),
    );
  }

  /** Leaves the chat (the server tells the rooms) and marks the state for exit. */
  async quit(): Promise<void> {
    const client = this.client;
    this.detach();
    if (client !== undefined) {
      await Promise.race([
        client.close(),
        new Promise((r) => setTimeout(r, this.quitTimeoutMs).unref()),
      ]);
    }
    this.update((s) => ({ ...s, page: "bye" }));
  }

  // ---------------------------------------------------------------- rooms and messages

  /** Makes a room active, joining it first if needed (the original's Enter on the room list). */
  selectRoom(room: string): void {
    const client = this.client;
    if (client === undefined) return;
    const view = this.state.rooms.find((r) => r.name === room);
    if (view === undefined) {
      this.update((s) => withFlash(s, `no room #${room} on this server`, true));
      return;
    }
    if (!view.wanted) {
      try {
        client.join(room);
      } catch (err) {
        this.update((s) => withFlash(s, messageOf(err), true));
        return;
      }
      this.update((s) => withWanted(s, room, true));
    }
    this.update((s) => withActive(s, room));
  }

  /** Leaves a room (the active one by default); another joined room becomes active. */
  leave(room = this.state.active): void {
    const client = this.client;
    if (client === undefined) return;
    const view = this.state.rooms.find((r) => r.name === room);
    if (room === undefined || view === undefined || !view.wanted) {
      this.update((s) => withFlash(s, room ? `you are not in #${room}` : "no active room", true));
      return;
    }
    try {
      client.leave(room);
    } catch (err) {
      this.update((s) => withFlash(s, messageOf(err), true));
      return;
    }
    this.update((s) => {
      let next = withWanted(s, room, false);
      if (next.active === room) {
        const other = next.rooms.find((r) => r.wanted);
        next = other ? withActive(next, other.name) : { ...next, active: undefined };
      }
      return withFlash(next, `left #${room}`);
    });
  }

  /** Handles one line from the input box: a message to the active room or a slash command. */
  submit(raw: string): void {
    const action = parseInput(raw);
    switch (action.kind) {
      case "nothing":
        return;
      case "message":
        return this.sendMessage(action.text);
      case "join":
        return this.selectRoom(action.room);
      case "leave":
        return this.leave(action.room);
      case "nick":
        return this.rename(action.name);
      case "quit":
        void this.quit();
        return;
      case "help":
        this.update((s) => {
          let next = s;
          for (const line of COMMAND_HELP) next = withNotice(next, line);
          return next.active === undefined ? withFlash(next, COMMAND_HELP.join(" | ")) : next;
        });
        return;
      case "invalid":
        this.update((s) => withFlash(s, action.message, true));
        return;
      default: {
        const unreachable: never = action;
        return unreachable;
      }
    }
  }

  private sendMessage(text: string): void {
    const client = this.client;
    const room = this.state.active;
    if (client === undefined) return;
    if (room === undefined) {
      this.update((s) => withFlash(s, "join a room first: /join <room> or the room list", true));
      return;
    }
    try {
      client.send(room, text);
      this.update((s) => ({ ...s, flash: undefined }));
    } catch (err) {
      this.update((s) => withFlash(s, messageOf(err), true));
    }
  }

  private rename(name: string): void {
    try {
      this.client?.setName(name);
    } catch (err) {
      this.update((s) => withFlash(s, messageOf(err), true));
    }
  }
}

function messageOf(err: unknown): string {
  if (err instanceof ClientError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
