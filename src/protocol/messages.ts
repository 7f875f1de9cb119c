/**
 * The wire contract: every command (client -> server, tagged `_ct`) and event
 * (server -> client, tagged `_et`) with the original rust-chat-server field names.
 *
 * Fields marked "extension" are Parley additions. Extra fields on an original event are safe for
 * an original client (its serde decoder ignores them); extension *event types* are only ever sent
 * to a connection that opted in (see docs/protocol.md, "Extensions").
 */

/** Version of the Parley extensions, announced in `login_successful.pv` and `welcome.v`. */
export const PROTOCOL_VERSION = 1;

export interface RoomInfo {
  /** room name */
  n: string;
  /** room description */
  d: string;
}

/** A member as listed by extension events: stable user id and display name. */
export interface MemberInfo {
  u: string;
  n: string;
}

// ---------------------------------------------------------------- commands

export interface JoinRoomCommand {
  _ct: "join_room";
  r: string;
  /**
   * extension: resume. The last offset (`user_message.id`) this client saw in the room: the
   * server first replays every message after it, then goes live (see docs/protocol.md, "History
   * and resume").
   */
  o?: number;
  /** extension: the epoch `o` belongs to (from `user_joined_room.e` or `history.e`) */
  e?: string;
  /** extension: on a join without `o`, replay this many of the latest messages first */
  b?: number;
}
export interface LeaveRoomCommand {
  _ct: "leave_room";
  r: string;
}
export interface SendMessageCommand {
  _ct: "send_message";
  r: string;
  c: string;
  /** extension: client message id, echoed on the resulting user_message */
  cid?: string;
}
export interface QuitCommand {
  _ct: "quit";
}
/** extension: opt in to extension events, optionally choosing a display name. */
export interface HelloCommand {
  _ct: "hello";
  v?: number;
  n?: string;
  /**
   * extension: the client instance key, stable across the reconnects of one client object. With it
   * the server drops a repeated `send_message` cid (see docs/protocol.md, "Resend deduplication").
   */
  k?: string;
  /**
   * extension: a bearer token (JWT) authenticating the connection, when the server has `--auth`
   * on (see docs/protocol.md, "Authentication"); ignored when auth is off
   */
  tok?: string;
}
/** extension: choose a display name (unique among connected users). */
export interface SetNameCommand {
  _ct: "set_name";
  n: string;
}
/** extension: ask for the room list with member counts. */
export interface ListRoomsCommand {
  _ct: "list_rooms";
}
/** extension: ask for a room's members. */
export interface ListMembersCommand {
  _ct: "list_members";
  r: string;
}
/**
 * extension: a page of a room's history. `before` pages backwards (the newest messages older than
 * it; without either bound, the latest page), `after` forwards. `l` is the page size.
 */
export interface HistoryCommand {
  _ct: "history";
  r: string;
  before?: number;
  after?: number;
  l?: number;
}
/** extension: liveness probe; `t` is echoed in the pong. */
export interface PingCommand {
  _ct: "ping";
  t?: string | number;
}

export type OriginalCommand = JoinRoomCommand | LeaveRoomCommand | SendMessageCommand | QuitCommand;
export type ExtensionCommand =
  | HelloCommand
  | SetNameCommand
  | ListRoomsCommand
  | ListMembersCommand
  | HistoryCommand
  | PingCommand;
export type Command = OriginalCommand | ExtensionCommand;
export type CommandType = Command["_ct"];

export const ORIGINAL_COMMANDS: ReadonlySet<string> = new Set([
  "join_room",
  "leave_room",
  "send_message",
  "quit",
]);

// ---------------------------------------------------------------- events

export interface LoginSuccessfulEvent {
  _et: "login_successful";
  /** session id (21 chars) */
  s: string;
  /** user id (5 chars) */
  u: string;
  rs: RoomInfo[];
  /** extension: display name (starts equal to the user id) */
  n?: string;
  /** extension: extension protocol version the server speaks */
  pv?: number;
}
export interface UserJoinedRoomEvent {
  _et: "user_joined_room";
  r: string;
  /** user ids of all members, the joiner included */
  us: string[];
  /** extension: members with display names, same order as `us` */
  ms?: MemberInfo[];
  /** extension: the room stream's epoch: offsets are comparable only within one epoch */
  e?: string;
  /**
   * extension: the room's latest offset when this join went live: the joiner has every message
   * up to it that it asked for, and live messages follow with higher ids
   */
  o?: number;
  /**
   * extension, on a join with `o`: `exact` (everything after `o` was replayed), `gap` (`o` was
   * older than the retained history: the replay started at the oldest message kept) or `reset`
   * (`e` is not the room's epoch: its history was lost; nothing was replayed)
   */
  rs?: ResumeStatus;
  /** extension: how many messages were replayed before this event */
  rp?: number;
}
export type ResumeStatus = "exact" | "gap" | "reset";
export type ParticipationStatus = "joined" | "left";
export interface RoomParticipationEvent {
  _et: "room_participation";
  r: string;
  u: string;
  s: ParticipationStatus;
  /** extension: display name */
  n?: string;
  /** extension: server time, ms since the epoch */
  ts?: number;
}
export interface UserMessageEvent {
  _et: "user_message";
  r: string;
  u: string;
  c: string;
  /**
   * extension: the message's offset in its room: increasing by 1, never reused, continuing across
   * restarts (within the room's epoch)
   */
  id?: number;
  /** extension: server time, ms since the epoch */
  ts?: number;
  /** extension: sender's display name */
  n?: string;
  /** extension: the sender's client message id */
  cid?: string;
}

/** extension: reply to hello. */
export interface WelcomeEvent {
  _et: "welcome";
  v: number;
  s: string;
  u: string;
  n: string;
  limits: PublicLimits;
}
/** extension: a request failed; the connection stays open. */
export interface ErrorEvent {
  _et: "error";
  code: string;
  message: string;
  /** the command that failed, when known */
  cmd?: string;
  /** the room concerned, when any */
  r?: string;
  /** the client message id of the failed send_message, when any */
  cid?: string;
}
/** extension: reply to list_rooms. `m` is the member count. */
export interface RoomListEvent {
  _et: "room_list";
  rs: Array<RoomInfo & { m: number }>;
}
/** extension: reply to list_members. */
export interface RoomMembersEvent {
  _et: "room_members";
  r: string;
  ms: MemberInfo[];
}
/** extension: reply to history: a page of messages, oldest first. */
export interface HistoryEvent {
  _et: "history";
  r: string;
  /** the room stream's epoch */
  e: string;
  ms: UserMessageEvent[];
  /** the oldest offset still retained, and the latest offset */
  first: number;
  head: number;
  /** whether more messages lie beyond this page in its direction */
  more: boolean;
}
/** extension: reply to ping. */
export interface PongEvent {
  _et: "pong";
  t?: string | number;
  ts: number;
}
/** extension: a member of a room you share changed display name (also sent to the renamer). */
export interface UserRenamedEvent {
  _et: "user_renamed";
  u: string;
  n: string;
  /** previous display name */
  o: string;
}
/** extension: the server holds back your input because you exceed your message rate. */
export interface SlowDownEvent {
  _et: "slow_down";
  /** ms until the server reads from you again */
  retry_ms: number;
}
/** extension: the server is about to close the connection. */
export interface DisconnectEvent {
  _et: "disconnect";
  code: string;
  message: string;
  /** whether reconnecting may succeed (false: don't retry as is) */
  reconnect: boolean;
  /** with SERVER_DRAINING: wait this long before reconnecting, ms (spreads the reconnects) */
  retry_ms?: number;
}
/**
 * extension: the room was removed from the server (rooms reload). You are no longer in it (a
 * `room_participation` `left` for you follows); its history is kept.
 */
export interface RoomClosedEvent {
  _et: "room_closed";
  r: string;
  message: string;
}
/** extension: a server notice to a room's members (from an operator; not a message, not stored). */
export interface NoticeEvent {
  _et: "notice";
  r: string;
  /** the notice text */
  c: string;
  /** server time, ms since the epoch */
  ts: number;
}

export interface PublicLimits {
  /** largest `l` of a history page and `b` of a join */
  historyPageMax: number;
  maxMessageChars: number;
  maxLineBytes: number;
  maxRoomsPerSession: number;
  maxNameChars: number;
  ratePerSec: number;
  rateBurst: number;
  idleTimeoutMs: number;
}

export type OriginalEvent =
  LoginSuccessfulEvent | UserJoinedRoomEvent | RoomParticipationEvent | UserMessageEvent;
export type ExtensionEvent =
  | WelcomeEvent
  | ErrorEvent
  | RoomListEvent
  | RoomMembersEvent
  | HistoryEvent
  | PongEvent
  | UserRenamedEvent
  | SlowDownEvent
  | DisconnectEvent
  | RoomClosedEvent
  | NoticeEvent;
export type Event = OriginalEvent | ExtensionEvent;
export type EventType = Event["_et"];

export const ORIGINAL_EVENTS: ReadonlySet<string> = new Set([
  "login_successful",
  "user_joined_room",
  "room_participation",
  "user_message",
]);
