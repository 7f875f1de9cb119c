import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadRooms, RoomsConfigError } from "../../src/room-catalog.js";
import { ROOT } from "../helpers/harness.js";

describe("loadRooms", () => {
  it("loads the bundled original 24 rooms in file order", () => {
    const rooms = loadRooms(join(ROOT, "resources", "chat_rooms_metadatas.json"));
    assert.equal(rooms.length, 24);
    assert.deepEqual(rooms[0], {
      name: "general",
      description: "General discussions and community bonding",
    });
    assert.equal(rooms[23]!.name, "career-advice");
  });

  it("rejects a bad entry naming the file, the entry and the problem", () => {
    const dir = mkdtempSync(join(tmpdir(), "rooms-"));
    const file = join(dir, "r.json");
    writeFileSync(
      file,
      JSON.stringify([
        { name: "ok", description: "" },
        { name: "", description: "" },
      ]),
    );
    assert.throws(
      () => loadRooms(file),
      (e: unknown) => e instanceof RoomsConfigError && e.message.startsWith(`${file}: room #2`),
    );
    writeFileSync(file, JSON.stringify([{ name: 3, description: "" }]));
    assert.throws(() => loadRooms(file), /room #1: missing string field "name"/);
  });

  it("rejects an empty folder", () => {
    const dir = mkdtempSync(join(tmpdir(), "rooms-"));
    assert.throws(() => loadRooms(dir), /holds no \.json rooms file/);
  });
});
