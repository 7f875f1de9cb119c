import type { ConnectionStatus } from "../../lib/client-types.js";
import type { ChatLine, ChatState, PendingLine, RoomState } from "./chat-state.js";

/** What the view asks the controller to do. */
export interface ViewActions {
  connect(name: string): void;
  select(room: string): void;
  join(room: string): void;
  leave(room: string): void;
  /** false: not sent (the reason is shown), the text stays in the box */
  send(text: string): boolean;
  retryNow(): void;
  /** the user scrolled to the top of a room's log: load its older messages */
  older(room: string): void;
}

/** Distance from the top of the message log, in px, at which older messages are loaded. */
const OLDER_AT_PX = 120;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e as T;
}

/**
 * A stable hue per display name (unique among connected users), so a person keeps their colour
 * across reconnects, which give them a new user id. Case-insensitive, as the server compares names.
 */
function hue(name: string): number {
  const key = name.toLowerCase();
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
  return h % 360;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

/**
 * The DOM side: renders ChatState and turns clicks and keys into ViewActions. All user text goes
 * in through textContent (never as HTML). Lists are small and rebuilt on change; the message log
 * of the room in view is appended to, and rebuilt only when the room changes or lines come in
 * above (an older page, loaded when the log is scrolled near its top: the view stays put).
 */
export class ChatView {
  private readonly login = byId<HTMLElement>("login");
  private readonly loginForm = byId<HTMLFormElement>("login-form");
  private readonly nameInput = byId<HTMLInputElement>("name-input");
  private readonly loginError = byId<HTMLElement>("login-error");
  private readonly connectButton = byId<HTMLButtonElement>("connect-button");
  private readonly app = byId<HTMLElement>("app");
  private readonly roomName = byId<HTMLElement>("room-name");
  private readonly roomDesc = byId<HTMLElement>("room-desc");
  private readonly leaveButton = byId<HTMLButtonElement>("leave-button");
  private readonly connState = byId<HTMLElement>("conn-state");
  private readonly meName = byId<HTMLElement>("me-name");
  private readonly roomList = byId<HTMLUListElement>("room-list");
  private readonly roomsUnread = byId<HTMLElement>("rooms-unread");
  private readonly messages = byId<HTMLOListElement>("messages");
  private readonly joinBar = byId<HTMLElement>("join-bar");
  private readonly joinText = byId<HTMLElement>("join-text");
  private readonly joinButton = byId<HTMLButtonElement>("join-button");
  private readonly composer = byId<HTMLFormElement>("composer");
  private readonly input = byId<HTMLInputElement>("message-input");
  private readonly memberList = byId<HTMLUListElement>("member-list");
  private readonly memberCount = byId<HTMLElement>("member-count");
  private readonly toggleRooms = byId<HTMLButtonElement>("toggle-rooms");
  private readonly toggleMembers = byId<HTMLButtonElement>("toggle-members");
  private readonly scrim = byId<HTMLElement>("scrim");

  /** which room the log shows (and its version), and the newest line rendered in it */
  private shownRoom: string | undefined;
  private shownVersion = 0;
  private shownSeq = 0;
  private shownPending = 0;
  private renderQueued = false;
  private countdown: ReturnType<typeof setInterval> | undefined;
  private online = false;

  constructor(
    private readonly state: ChatState,
    private readonly actions: ViewActions,
  ) {
    this.loginForm.addEventListener("submit", (e) => {
      e.preventDefault();
      actions.connect(this.nameInput.value.trim());
    });
    this.composer.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = this.input.value;
      if (text.trim() === "") return;
      if (actions.send(text)) this.input.value = "";
    });
    this.joinButton.addEventListener("click", () => {
      if (state.active) actions.join(state.active);
    });
    this.leaveButton.addEventListener("click", () => {
      if (state.active) actions.leave(state.active);
    });
    this.messages.addEventListener("scroll", () => this.maybeOlder(), { passive: true });
    this.toggleRooms.addEventListener("click", () => this.toggleDrawer("rooms"));
    this.toggleMembers.addEventListener("click", () => this.toggleDrawer("members"));
    this.scrim.addEventListener("click", () => this.closeDrawers());
    document.addEventListener("keydown", (e) => this.onKey(e));
  }

  showLogin(name: string, error = ""): void {
    this.app.hidden = true;
    this.login.hidden = false;
    this.nameInput.value = name;
    this.loginError.textContent = error;
    this.connectButton.disabled = false;
    this.nameInput.focus();
  }

  loginBusy(): void {
    this.loginError.textContent = "";
    this.connectButton.disabled = true;
  }

  showChat(): void {
    this.login.hidden = true;
    this.app.hidden = false;
    this.input.focus();
  }

  focusInput(): void {
    this.input.focus();
  }

  /** Re-renders on the next frame (events often arrive in bursts). */
  update(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  showConnection(status: ConnectionStatus): void {
    clearInterval(this.countdown);
    this.connState.replaceChildren();
    this.connState.dataset.state = status.state;
    // The reason and the server (of a cluster, the one in use or tried next) are in the tooltip:
    // the top bar stays short at phone width.
    const why = status.state === "connected" ? undefined : status.lastError;
    this.connState.title = [why, `server: ${status.server}`].filter((x) => x).join("\n");
    switch (status.state) {
      case "idle":
      case "connecting":
        this.connState.textContent = status.attempt === 0 ? "connecting…" : "reconnecting…";
        break;
      case "connected":
        this.connState.textContent = "connected";
        break;
      case "waiting": {
        // The reason is in the log and the tooltip: the top bar stays short at phone width.
        const label = el("span");
        const retryAt = status.retryAt ?? Date.now();
        const tick = (): void => {
          const s = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
          label.textContent = `offline: retry in ${s}s`;
        };
        tick();
        this.countdown = setInterval(tick, 500);
        const now = el("button", "link", "retry now");
        now.type = "button";
        now.addEventListener("click", () => this.actions.retryNow());
        this.connState.append(label, " ", now);
        break;
      }
      case "closed":
        this.connState.textContent = `offline: ${status.lastError ?? "closed"}`;
        break;
    }
    this.online = status.state === "connected";
    this.composer.classList.toggle("offline", !this.online);
    this.update();
  }

  private render(): void {
    const s = this.state;
    const room = s.activeRoom;
    this.meName.textContent = s.name ?? "";
    document.title = s.unreadTotal > 0 ? `(${s.unreadTotal}) Parley` : "Parley";
    this.renderRooms();
    const hiddenUnread = s.unreadTotal;
    this.roomsUnread.hidden = hiddenUnread === 0;
    this.roomsUnread.textContent = String(hiddenUnread);

    this.roomName.textContent = room ? `#${room.name}` : "Parley";
    this.roomDesc.textContent = room ? room.description : "Pick a room to join";
    // In a room the user wants to be in, typing works even offline: the client library keeps
    // the message in its outbox and sends it after the reconnect (shown as pending meanwhile).
    const inRoom = room !== undefined && s.wanted.has(room.name);
    this.leaveButton.hidden = !inRoom;
    this.joinBar.hidden = !room || inRoom;
    this.composer.hidden = !inRoom;
    if (room && !inRoom) {
      this.joinText.textContent = `You are not in #${room.name}.`;
      this.joinButton.textContent = `Join #${room.name}`;
    }
    if (room) {
      this.input.placeholder =
        this.online || !inRoom
          ? `Message #${room.name}`
          : `Message #${room.name} (sent when back online)`;
    }
    if (s.limits) this.input.maxLength = s.limits.maxMessageChars;
    this.renderMessages(room);
    this.renderMembers(room);
  }

  private renderRooms(): void {
    const s = this.state;
    const items: HTMLLIElement[] = [];
    for (const room of s.rooms.values()) {
      const li = el("li");
      const b = el("button", "room");
      b.type = "button";
      b.dataset.room = room.name;
      if (room.name === s.active) b.setAttribute("aria-current", "true");
      if (room.joined) b.classList.add("joined");
      const head = el("span", "room-head");
      head.append(el("span", "room-name", `#${room.name}`));
      if (room.unread > 0) {
        const badge = el("span", "badge", String(room.unread));
        badge.setAttribute("aria-label", `${room.unread} unread`);
        head.append(badge);
      } else if (!room.joined && room.memberCount) {
        head.append(el("span", "count", String(room.memberCount)));
      }
      b.append(head, el("span", "room-desc", room.description));
      b.addEventListener("click", () => {
        this.actions.select(room.name);
        this.closeDrawers();
      });
      li.append(b);
      items.push(li);
    }
    this.roomList.replaceChildren(...items);
  }

  private renderMessages(room: RoomState | undefined): void {
    if (!room) {
      this.messages.replaceChildren();
      this.shownRoom = undefined;
      return;
    }
    const log = this.messages;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    const fromBottom = log.scrollHeight - log.scrollTop;
    log.setAttribute("aria-busy", String(room.loadingOlder));
    // Pending lines stay last: taken out here, appended again after the new lines.
    for (const p of log.querySelectorAll(":scope > li.pending")) p.remove();
    const pending = this.state.pendingIn(room.name);
    if (room.name !== this.shownRoom || room.version !== this.shownVersion) {
      const sameRoom = room.name === this.shownRoom;
      log.replaceChildren(
        ...room.lines.map((l) => this.line(l)),
        ...pending.map((p) => this.pendingLine(p)),
      );
      this.shownRoom = room.name;
      this.shownVersion = room.version;
      // Lines came in above: what was in view stays in view (same distance from the bottom).
      log.scrollTop = sameRoom && !atBottom ? log.scrollHeight - fromBottom : log.scrollHeight;
    } else {
      const fresh = room.lines.filter((l) => l.seq > this.shownSeq);
      log.append(...fresh.map((l) => this.line(l)));
      // Keep the DOM as bounded as the model.
      while (log.childElementCount > room.lines.length) log.firstElementChild?.remove();
      log.append(...pending.map((p) => this.pendingLine(p)));
      if (atBottom || fresh.some((l) => l.own) || pending.length > this.shownPending) {
        log.scrollTop = log.scrollHeight;
      }
    }
    // Older lines get later seqs than the ones below them: the newest shown is the largest.
    for (const l of room.lines) if (l.seq > this.shownSeq) this.shownSeq = l.seq;
    this.shownPending = pending.length;
    this.maybeOlder();
  }

  /** Near the top of the log, or when it does not fill its box: ask for older messages. */
  private maybeOlder(): void {
    const room = this.state.active;
    const log = this.messages;
    if (room === undefined || this.app.hidden || !this.state.wantsOlder(room)) return;
    if (log.scrollTop < OLDER_AT_PX || log.scrollHeight <= log.clientHeight)
      this.actions.older(room);
  }

  private line(l: ChatLine): HTMLLIElement {
    const li = el("li", `line ${l.kind}${l.own ? " own" : ""}`);
    if (l.kind === "divider") {
      li.setAttribute("role", "separator");
      li.append(el("span", "text", l.text));
      return li;
    }
    const d = new Date(l.ts);
    const time = el("time", "time", timeFormat.format(d));
    time.dateTime = d.toISOString();
    li.append(time);
    if (l.kind === "message") {
      const name = el("span", "name", l.name ?? l.user ?? "");
      name.style.setProperty("--hue", String(hue(l.name ?? l.user ?? "")));
      li.append(name, el("span", "text", l.text));
    } else {
      li.append(el("span", "text", l.text));
    }
    return li;
  }

  /** One of our messages not confirmed yet: greyed, marked "sending…", replaced by its echo. */
  private pendingLine(p: PendingLine): HTMLLIElement {
    const li = el("li", "line message own pending");
    li.dataset.cid = p.cid;
    const d = new Date(p.ts);
    const time = el("time", "time", timeFormat.format(d));
    time.dateTime = d.toISOString();
    const me = this.state.name ?? this.state.userId ?? "";
    const name = el("span", "name", me);
    name.style.setProperty("--hue", String(hue(me)));
    li.append(time, name, el("span", "text", p.text), el("span", "status", "sending…"));
    return li;
  }

  private renderMembers(room: RoomState | undefined): void {
    const list: HTMLLIElement[] = [];
    if (room?.joined) {
      const members = [...room.members].sort((a, b) => a[1].localeCompare(b[1]));
      for (const [user, name] of members) {
        const li = el("li", "member");
        const dot = el("span", "dot");
        dot.style.setProperty("--hue", String(hue(name)));
        li.append(dot, el("span", "member-name", name));
        if (user === this.state.userId) li.append(el("span", "you", "(you)"));
        if (name !== user) li.title = `user id ${user}`;
        list.push(li);
      }
    }
    this.memberList.replaceChildren(...list);
    this.memberCount.textContent = room?.joined ? String(room.members.size) : "";
  }

  private onKey(e: KeyboardEvent): void {
    if (this.app.hidden) return;
    if (e.key === "Escape") {
      this.closeDrawers();
      this.input.focus();
      return;
    }
    if (e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
      e.preventDefault();
      const names = [...this.state.rooms.values()].filter((r) => r.joined).map((r) => r.name);
      if (names.length === 0) return;
      const at = this.state.active ? names.indexOf(this.state.active) : -1;
      const step = e.key === "ArrowUp" ? -1 : 1;
      const next = names[(at + step + names.length) % names.length]!;
      this.actions.select(next);
      this.input.focus();
    }
  }

  private toggleDrawer(which: "rooms" | "members"): void {
    const open = !this.app.classList.contains(`show-${which}`);
    this.closeDrawers();
    if (open) {
      this.app.classList.add(`show-${which}`);
      this.scrim.hidden = false;
      (which === "rooms" ? this.toggleRooms : this.toggleMembers).setAttribute(
        "aria-expanded",
        "true",
      );
    }
  }

  private closeDrawers(): void {
    this.app.classList.remove("show-rooms", "show-members");
    this.scrim.hidden = true;
    this.toggleRooms.setAttribute("aria-expanded", "false");
    this.toggleMembers.setAttribute("aria-expanded", "false");
  }
}
