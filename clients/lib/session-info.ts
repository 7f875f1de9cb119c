import type { LoginSuccessfulEvent, RoomInfo } from "../../src/protocol/index.js";
import type { SessionInfo } from "./client-types.js";

/**
 * The session a login_successful describes, or undefined if it cannot be used (then the login
 * timeout ends the link). `reconnects` is the number of logins before it. Room entries of the
 * wrong shape are left out.
 */
export function sessionFromLogin(
  ev: LoginSuccessfulEvent,
  reconnects: number,
): SessionInfo | undefined {
  if (typeof ev.s !== "string" || typeof ev.u !== "string" || !Array.isArray(ev.rs)) {
    return undefined;
  }
  return {
    sessionId: ev.s,
    userId: ev.u,
    name: typeof ev.n === "string" ? ev.n : ev.u,
    rooms: ev.rs.filter(isRoomInfo),
    extended: typeof ev.pv === "number" && ev.pv >= 1,
    reconnects,
  };
}

function isRoomInfo(r: unknown): r is RoomInfo {
  return (
    typeof r === "object" &&
    r !== null &&
    typeof (r as RoomInfo).n === "string" &&
    typeof (r as RoomInfo).d === "string"
  );
}
