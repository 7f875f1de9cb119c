import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { RoomSpec } from "./core/index.js";

/** A rooms file or folder that cannot be used; the message names the file and the problem. */
export class RoomsConfigError extends Error {
  readonly code = "ROOMS_INVALID";
  constructor(message: string) {
    super(message);
    this.name = "RoomsConfigError";
  }
}

/** Longest room name accepted, in characters. */
const MAX_ROOM_NAME = 64;

/**
 * Loads room definitions in the original format (a JSON array of {name, description}) from one
 * file, or from every `*.json` file of a folder in name order. Rooms keep file order. Throws
 * RoomsConfigError on unreadable files, bad JSON, a missing or mistyped field, an empty list, or a
 * duplicate name (within or across files).
 */
export function loadRooms(path: string): RoomSpec[] {
  let files: string[];
  try {
    files = statSync(path).isDirectory()
      ? readdirSync(path)
          .filter((f) => f.endsWith(".json"))
          .sort()
          .map((f) => join(path, f))
      : [path];
  } catch (err) {
    throw new RoomsConfigError(`${path}: cannot read rooms: ${(err as Error).message}`);
  }
  if (files.length === 0) throw new RoomsConfigError(`${path}: folder holds no .json rooms file`);

  const rooms: RoomSpec[] = [];
  const seen = new Map<string, string>(); // name -> file that defined it
  for (const file of files) {
    for (const spec of parseRoomsFile(file)) {
      const first = seen.get(spec.name);
      if (first !== undefined) {
        throw new RoomsConfigError(
          `${file}: duplicate room name "${spec.name}"` +
            (first === file ? "" : ` (first in ${first})`),
        );
      }
      seen.set(spec.name, file);
      rooms.push(spec);
    }
  }
  return rooms;
}

function parseRoomsFile(file: string): RoomSpec[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new RoomsConfigError(`${file}: cannot read: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new RoomsConfigError(`${file}: invalid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(data)) {
    throw new RoomsConfigError(`${file}: expected a JSON array of {"name", "description"} objects`);
  }
  if (data.length === 0) throw new RoomsConfigError(`${file}: the room list is empty`);
  return data.map((entry: unknown, i) => {
    const where = `${file}: room #${i + 1}`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new RoomsConfigError(`${where}: expected an object with "name" and "description"`);
    }
    const { name, description } = entry as Record<string, unknown>;
    if (typeof name !== "string")
      throw new RoomsConfigError(`${where}: missing string field "name"`);
    if (typeof description !== "string") {
      throw new RoomsConfigError(`${where} ("${name}"): missing string field "description"`);
    }
    if (name.trim() === "" || name.length > MAX_ROOM_NAME || hasControlChar(name)) {
      throw new RoomsConfigError(
        `${where}: name must be 1 to ${MAX_ROOM_NAME} characters without control characters`,
      );
    }
    return { name, description };
  });
}

function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x20) return true;
  return false;
}
