/**
 * The web client's controller: wires the connection (reconnecting WebSocket), the model
 * (ChatState) and the view (ChatView), and owns the session flow: hello with the chosen name,
 * then (re)join the rooms the user is in.
 */
import type { Command, Event } from "../../../src/protocol/index.js";
import { ChatConnection, type ConnectionState } from "./chat-connection.js";
import { ChatState } from "./chat-state.js";
import { ChatView } from "./chat-view.js";

const NAME_KEY = "parley.name";
// The server's rule (letters, digits, "_", "." and "-"); it checks again and has the last word.
const NAME_PATTERN = /^[\p{L}\p{N}_.-]+$/u;
const MAX_NAME = 32;

const HELP =
  "commands: /join ROOM, /leave, /nick NAME, /help. Alt+↑/↓ switches rooms, Esc focuses this box.";

class WebClient {
  private readonly state = new ChatState();
  private readonly view: ChatView;
  private conn: ChatConnection | undefined;
  /** the name the user asked for */
  private wantedName = "";
  /** the chat screen is up: a session with the wanted name succeeded once */
  private inChat = false;
  private nextCid = 1;

  constructor() {
    this.view = new ChatView(this.state, {
      connect: (name) => this.connect(name),
      select: (room) => this.select(room),
      join: (room) => this.join(room),
      leave: (room) => this.leave(room),
      send: (text) => this.send(text),
      retryNow: () => this.conn?.retryNow(),
    });
    document.addEventListener("visibilitychange", () => {
      this.state.setVisible(document.visibilityState === "visible");
      this.view.update();
    });
    this.view.showLogin(readName());
  }

  private connect(name: string): void {
    if (name.length === 0 || name.length > MAX_NAME || !NAME_PATTERN.test(name)) {
      this.view.showLogin(name, `A name is 1 to ${MAX_NAME} letters, digits, "_", "." or "-".`);
      return;
    }
    this.wantedName = name;
    saveName(name);
    this.view.loginBusy();
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.conn = new ChatConnection(`${scheme}//${location.host}/ws`, {
      onEvent: (ev) => this.onEvent(ev),
      onState: (cs) => this.onState(cs),
    });
    this.conn.start();
  }

  private command(cmd: Command): boolean {
    return this.conn?.send(cmd) ?? false;
  }

  private onEvent(ev: Event): void {
    this.state.apply(ev);
    switch (ev._et) {
      case "login_successful":
        this.command({ _ct: "hello", v: 1, n: this.wantedName });
        this.command({ _ct: "list_rooms" });
        for (const room of this.state.wanted) this.command({ _ct: "join_room", r: room });
        break;
      case "welcome":
        if (!this.inChat && ev.n === this.wantedName) this.enterChat();
        else if (this.inChat && ev.n !== this.wantedName) {
          this.state.note(`you are ${ev.n} for now: ${this.wantedName} is taken (try /nick)`);
        }
        break;
      case "error":
        if (!this.inChat && ev.cmd === "hello") {
          // The name was refused before the user got in: back to the form, no reconnect.
          this.conn?.stop("name refused");
          this.conn = undefined;
          this.view.showLogin(this.wantedName, ev.message);
          return;
        }
        if (ev.cmd === "join_room" && ev.r !== undefined && ev.code !== "ALREADY_IN_ROOM") {
          this.state.wanted.delete(ev.r);
        }
        break;
      case "room_participation":
        if (ev.u === this.state.userId && ev.s === "joined") {
          this.command({ _ct: "list_members", r: ev.r }); // names of members who joined unnamed
        }
        break;
      case "disconnect":
        this.state.note(`server closed the connection: ${ev.message}`, "error");
        break;
    }
    this.view.update();
  }

  private enterChat(): void {
    this.inChat = true;
    this.view.showChat();
    const first = this.state.rooms.keys().next();
    if (this.state.active === undefined && !first.done) this.select(first.value);
  }

  private onState(cs: ConnectionState): void {
    this.view.showConnection(cs);
    if (cs.kind === "waiting" || cs.kind === "stopped") {
      const wasJoined = [...this.state.rooms.values()].some((r) => r.joined);
      this.state.disconnected();
      if (this.inChat && wasJoined) {
        this.state.note(
          cs.kind === "waiting"
            ? `disconnected (${cs.reason}): reconnecting…`
            : `offline: ${cs.reason}`,
          "error",
        );
      }
      this.view.update();
    }
  }

  private select(room: string): void {
    this.state.activate(room);
    const r = this.state.rooms.get(room);
    if (r && !r.joined && !this.state.wanted.has(room)) this.join(room);
    this.view.update();
    this.view.focusInput();
  }

  private join(room: string): void {
    this.state.wanted.add(room);
    this.command({ _ct: "join_room", r: room });
    this.view.update();
  }

  private leave(room: string): void {
    this.state.wanted.delete(room);
    if (!this.command({ _ct: "leave_room", r: room })) {
      const r = this.state.rooms.get(room);
      if (r) r.joined = false;
    }
    this.view.update();
  }

  private send(text: string): void {
    if (text.startsWith("/")) return this.slash(text);
    const room = this.state.activeRoom;
    if (!room?.joined) return;
    const sent = this.command({
      _ct: "send_message",
      r: room.name,
      c: text,
      cid: String(this.nextCid++),
    });
    if (!sent) this.state.note("not connected: message not sent", "error");
    this.view.update();
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
        if (arg) {
          this.wantedName = arg;
          saveName(arg);
          this.command({ _ct: "set_name", n: arg });
        }
        break;
      default:
        this.state.note(HELP);
    }
    this.view.update();
  }
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

new WebClient();
