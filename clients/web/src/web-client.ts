/**
 * The web client's controller: wires the client library's ParleyClient (the connection:
 * reconnect with backoff, rooms rejoined, name reclaimed, outbox), the model (ChatState) and the
 * view (ChatView), and owns the sign-in flow: a name refused at sign-in goes back to the form.
 */
import { checkDisplayName, type Event } from "../../../src/protocol/index.js";
import type { ConnectionStatus } from "../../lib/client-types.js";
import { ClientError } from "../../lib/errors.js";
import { ParleyClient } from "../../lib/parley-client.js";
import type { Transport } from "../../lib/transport.js";
import { ChatState, OLDER_PAGE } from "./chat-state.js";
import { ChatView } from "./chat-view.js";

const NAME_KEY = "parley.name";
// The server's default --max-name-chars; the server checks again and has the last word.
const MAX_NAME = 32;

const HELP =
  "commands: /join ROOM, /leave, /nick NAME, /help. Alt+↑/↓ switches rooms, Esc focuses this box.";

export class WebClient {
  private readonly state: ChatState;
  private readonly view: ChatView;
  private client: ParleyClient | undefined;
  private unsubscribe: Array<() => void> = [];
  /** the name the user asked for (updated when a /nick is confirmed) */
  private wantedName = "";
  /** the chat screen is up: a session with the wanted name succeeded once */
  private inChat = false;

  /** `transport` makes the transport for each sign-in (a fresh client each time). */
  constructor(private readonly transport: () => Transport) {
    this.state = new ChatState({ isOwn: (ev) => this.client?.isOwn(ev) ?? false });
    this.view = new ChatView(this.state, {
      connect: (name) => void this.connect(name),
      select: (room) => this.select(room),
      join: (room) => this.join(room),
      leave: (room) => this.leave(room),
      send: (text) => this.send(text),
      retryNow: () => this.client?.reconnectNow(),
      older: (room) => this.loadOlder(room),
    });
    document.addEventListener("visibilitychange", () => {
      this.state.setVisible(document.visibilityState === "visible");
      this.view.update();
    });
    this.view.showLogin(readName());
  }

  private async connect(wanted: string): Promise<void> {
    // The server's own rule (src/protocol/display-name.ts), so no name it accepts is refused here.
    const check = checkDisplayName(wanted, MAX_NAME);
    if (!check.ok) {
      this.view.showLogin(wanted, `This name ${check.message}.`);
      return;
    }
    const name = check.name;
    if (this.client !== undefined) return;
    this.wantedName = name;
    this.view.loginBusy();
    const client = new ParleyClient({ transport: this.transport(), name });
    this.attach(client);
    try {
      await client.connect();
    } catch (err) {
      if (this.client !== client) return;
      this.detach();
      this.view.showLogin(name, `Cannot connect: ${messageOf(err)}`);
    }
  }

  private attach(client: ParleyClient): void {
    this.client = client;
    this.unsubscribe = [
      client.on("event", (ev) => this.onEvent(ev)),
      client.on("joined", (j) => {
        this.state.joined(j);
        this.view.update();
      }),
      client.on("ready", (session) => {
        if (session.extended) client.request({ _ct: "list_rooms" }); // member counts
      }),
      client.on("status", (status) => {
        this.view.showConnection(status);
        if (status.state === "waiting" || status.state === "closed") this.onOffline(status);
      }),
      client.on("outbox", () => {
        this.state.setPending(
          client.pending.map((e) => ({ cid: e.cid, room: e.room, text: e.text, ts: e.queuedAt })),
        );
        this.view.update();
      }),
      client.on("failed", (f) => {
        this.state.note(`not delivered: "${f.text}": ${f.message} (${f.code})`, "error", f.room);
        this.view.update();
      }),
    ];
  }

  private detach(): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.client = undefined;
  }

  private onEvent(ev: Event): void {
    const client = this.client;
    if (client === undefined) return;
    this.state.apply(ev);
    switch (ev._et) {
      case "welcome":
        if (!this.inChat && ev.n === this.wantedName) this.enterChat();
        else if (this.inChat && ev.n !== this.wantedName) {
          // Our previous connection may still hold the name: the client library reclaims it.
          this.state.note(`you are ${ev.n} for now: ${this.wantedName} is taken`);
        }
        break;
      case "error":
        if (!this.inChat && ev.cmd === "hello") {
          // The name was refused before the user got in: back to the form, no reconnect.
          this.detach();
          void client.close();
          this.view.showLogin(this.wantedName, ev.message);
          return;
        }
        break;
      case "user_renamed":
        if (ev.u === this.state.userId) {
          this.wantedName = ev.n;
          saveName(ev.n);
        }
        break;
      case "room_participation":
        if (ev.u === this.state.userId && ev.s === "joined" && client.session?.extended) {
          client.request({ _ct: "list_members", r: ev.r }); // names of members who joined unnamed
        }
        break;
    }
    // The client library keeps the rooms to be in (a refused join drops one).
    this.state.setWanted(client.rooms);
    this.view.update();
  }

  private enterChat(): void {
    this.inChat = true;
    saveName(this.wantedName);
    this.view.showChat();
    const first = this.state.rooms.keys().next();
    if (this.state.active === undefined && !first.done) this.select(first.value);
  }

  /** The link is gone: one note says why (a server `disconnect` becomes the status's lastError). */
  private onOffline(status: ConnectionStatus): void {
    const wasJoined = [...this.state.rooms.values()].some((r) => r.joined);
    this.state.disconnected();
    if (this.inChat && wasJoined) {
      const why = status.lastError ?? "connection lost";
      this.state.note(
        status.state === "waiting" ? `disconnected (${why}): reconnecting…` : `offline: ${why}`,
        "error",
      );
    }
    this.view.update();
  }

  /** Runs a client call; a refusal (ClientError) is shown in the room in view. */
  private attempt(f: (client: ParleyClient) => void): boolean {
    const client = this.client;
    if (client === undefined) return false;
    try {
      f(client);
      return true;
    } catch (err) {
      this.state.note(messageOf(err), "error");
      return false;
    } finally {
      this.state.setWanted(client.rooms);
      this.view.update();
    }
  }

  private select(room: string): void {
    this.state.activate(room);
    if (!this.state.wanted.has(room)) this.join(room);
    this.view.update();
    this.view.focusInput();
  }

  /** Asks for the page before the oldest message shown in `room` (online, one at a time). */
  private loadOlder(room: string): void {
    const client = this.client;
    const before = this.state.rooms.get(room)?.olderBefore;
    if (client === undefined || client.status.state !== "connected") return;
    if (!this.state.wantsOlder(room) || before === undefined) return;
    this.state.olderLoading(room, true);
    client.history(room, { before, limit: OLDER_PAGE }).then(
      (page) => {
        this.state.older(page);
        this.view.update();
      },
      (err: unknown) => {
        this.state.olderLoading(room, false);
        // a lost link is told already; scrolling up again asks again
        const offline = err instanceof ClientError && err.code === "NOT_CONNECTED";
        if (!offline)
          this.state.note(`older messages not loaded: ${messageOf(err)}`, "error", room);
        this.view.update();
      },
    );
  }

  private join(room: string): void {
    this.attempt((c) => c.join(room));
  }

  private leave(room: string): void {
    this.attempt((c) => c.leave(room));
  }

  private send(text: string): boolean {
    if (text.startsWith("/")) {
      this.slash(text);
      return true;
    }
    const room = this.state.active;
    if (room === undefined) return false;
    return this.attempt((c) => c.send(room, text));
  }

  private slash(text: string): void {
    const [cmd = "", ...rest] = text.slice(1).split(/\s+/);
    const arg = rest.join(" ").trim();
    switch (cmd.toLowerCase()) {
      case "join": {
        const name = arg.replace(/^#/, "");
        if (this.state.rooms.has(name)) this.select(name);
        else this.state.note(`no room named "${name}"`, "error");
        break;
      }
      case "leave":
        if (this.state.active) this.leave(this.state.active);
        break;
      case "nick":
        if (arg) this.attempt((c) => c.setName(arg));
        break;
      default:
        this.state.note(HELP);
    }
    this.view.update();
  }
}

function messageOf(err: unknown): string {
  if (err instanceof ClientError || err instanceof Error) return err.message;
  return String(err);
}

function readName(): string {
  try {
    return localStorage.getItem(NAME_KEY) ?? "";
  } catch {
    return ""; // storage may be off (private mode)
  }
}

function saveName(name: string): void {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    // not remembered: fine
  }
}
