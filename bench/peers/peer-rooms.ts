import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** A room as the original rooms file lists it. */
export interface PeerRoom {
  name: string;
  description: string;
}

/** The bundled rooms (the original's 24), so that peers list what Parley lists. */
export const DEFAULT_ROOMS_FILE = fileURLToPath(
  new URL("../../resources/chat_rooms_metadatas.json", import.meta.url),
);

export function loadPeerRooms(path: string = DEFAULT_ROOMS_FILE): PeerRoom[] {
  const rooms = JSON.parse(readFileSync(path, "utf8")) as PeerRoom[];
  if (!Array.isArray(rooms) || rooms.some((r) => typeof r?.name !== "string")) {
    throw new Error(`${path}: not an array of {name, description}`);
  }
  return rooms;
}

/** Options every peer takes. */
export interface PeerOptions {
  host?: string;
  /** 0 picks a free port */
  port: number;
  rooms?: PeerRoom[];
  /**
   * Fault injection for tests of the stress tool's loss counter: skip every Nth user_message
   * delivery (0: deliver everything).
   */
  dropEvery?: number;
}

export interface RunningPeer {
  readonly port: number;
  close(): Promise<void>;
}

/** Ids shaped like the original's: a 21-character session id and a 5-character user id. */
export function randomId(length: number): string {
  return randomBytes(length).toString("base64url").slice(0, length);
}
