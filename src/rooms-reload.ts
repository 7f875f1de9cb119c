import type { ChatServer, Logger, Metrics } from "./core/index.js";
import { loadRooms, RoomsConfigError } from "./room-catalog.js";

/** What a rooms reload did, as the admin API reports it. */
export type RoomsReloadOutcome =
  | { ok: true; rooms: number; added: string[]; removed: string[]; changed: string[] }
  | {
      ok: false;
      /** ROOMS_INVALID: the rooms file(s) cannot be used; RELOAD_FAILED: the store failed */
      code: "ROOMS_INVALID" | "RELOAD_FAILED";
      message: string;
    };

/** Told to the members of a room the reload removed (`room_closed.message`). */
const CLOSED_MESSAGE = "the room was removed from the server";

/**
 * Re-reads the rooms file or folder and applies it (ChatServer.reloadRooms). A file that cannot
 * be used keeps the rooms as they are, and the reason is logged; either way the outcome is
 * counted (`parley_reloads_total{result}`). Reloads are serialised by the caller (App).
 */
export async function reloadRoomsFrom(
  path: string,
  chat: ChatServer,
  metrics: Metrics,
  logger: Logger,
): Promise<RoomsReloadOutcome> {
  let specs;
  try {
    specs = loadRooms(path);
  } catch (err) {
    if (!(err instanceof RoomsConfigError)) throw err;
    metrics.roomsReloaded("invalid");
    logger.error({ code: err.code, err: err.message }, "rooms reload refused: old rooms kept");
    return { ok: false, code: "ROOMS_INVALID", message: err.message };
  }
  try {
    const change = await chat.reloadRooms(specs, CLOSED_MESSAGE);
    const names = (rooms: ReadonlyArray<{ name: string }>): string[] => rooms.map((r) => r.name);
    const outcome = {
      ok: true as const,
      rooms: chat.rooms.size,
      added: names(change.added),
      removed: names(change.removed),
      changed: names(change.changed),
    };
    metrics.roomsReloaded("ok");
    logger.info(
      {
        rooms: outcome.rooms,
        added: outcome.added,
        removed: outcome.removed,
        changed: outcome.changed,
      },
      "rooms reloaded",
    );
    return outcome;
  } catch (err) {
    metrics.roomsReloaded("error");
    logger.error({ err: String(err) }, "rooms reload failed: old rooms kept");
    return { ok: false, code: "RELOAD_FAILED", message: String(err) };
  }
}
