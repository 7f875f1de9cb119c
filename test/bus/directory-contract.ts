// The one test suite every Directory backend passes (memory, Redis).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Directory } from "../../src/core/index.js";

export interface DirectoryFactory {
  /** a new node of the same cluster, started, with this heartbeat ttl */
  node(id: string, ttlMs?: number): Promise<Directory & { kill?(): void }>;
  /** stops a node's heartbeat without cleaning up (kill -9) */
  kill(d: Directory): void;
}

let seq = 0;
const fresh = (p: string): string => `${p}-${++seq}-${Date.now()}`;

export function directoryContract(name: string, factory: DirectoryFactory): void {
  describe(`${name} (Directory contract)`, () => {
    it("lists a room's members on every node, and counts them", async () => {
      const room = fresh("room");
      const [a, b] = [await factory.node(fresh("a")), await factory.node(fresh("b"))];
      await a.join(room, "u1", "alice");
      await b.join(room, "u2", "bob");
      const members = await b.members(room);
      assert.deepEqual(members.map((m) => m.name).sort(), ["alice", "bob"]);
      assert.deepEqual(await a.counts([room, fresh("empty")]), [2, 0]);
      assert.equal(await b.leave(room, "u2"), true);
      assert.equal(await b.leave(room, "u2"), false);
      assert.deepEqual(
        (await a.members(room)).map((m) => m.user),
        ["u1"],
      );
      await a.stop();
      await b.stop();
    });

    it("gives a name's keys to one user at a time, across nodes, and frees them on release", async () => {
      const [a, b] = [await factory.node(fresh("a")), await factory.node(fresh("b"))];
      const keys = [fresh("alice"), fresh("ALICE")];
      assert.equal(await a.claimName(keys, "u1"), true);
      assert.equal(await a.claimName(keys, "u1"), true, "claiming again what one holds is fine");
      assert.equal(await b.claimName([keys[1]!], "u2"), false);
      assert.equal(await b.claimName([fresh("other"), keys[0]!], "u2"), false, "all or none");
      await a.releaseName(keys, "u1");
      assert.equal(await b.claimName(keys, "u2"), true);
      await a.stop();
      await b.stop();
    });

    it("removes a dead node's members and names once, telling one reaper", async () => {
      const room = fresh("room");
      const dead = await factory.node(fresh("dead"), 300);
      const [a, b] = [await factory.node(fresh("a")), await factory.node(fresh("b"))];
      await dead.join(room, "u9", "zed");
      const key = fresh("zed");
      assert.equal(await dead.claimName([key], "u9"), true);
      await a.join(room, "u1", "alice");
      factory.kill(dead);
      await new Promise((r) => setTimeout(r, 600));
      const [ra, rb] = await Promise.all([a.reap(), b.reap()]);
      const all = [...ra, ...rb];
      assert.equal(all.length, 1, "told once");
      assert.deepEqual(
        { room: all[0]!.room, user: all[0]!.user, name: all[0]!.name },
        { room, user: "u9", name: "zed" },
      );
      assert.deepEqual(
        (await a.members(room)).map((m) => m.user),
        ["u1"],
      );
      assert.equal(await b.claimName([key], "u2"), true, "its names are free again");
      await a.stop();
      await b.stop();
    });

    it("keeps a live node's members through reaping", async () => {
      const room = fresh("room");
      const [a, b] = [await factory.node(fresh("a"), 300), await factory.node(fresh("b"), 300)];
      await a.join(room, "u1", "alice");
      await new Promise((r) => setTimeout(r, 700));
      assert.deepEqual(await b.reap(), []);
      assert.equal((await b.members(room)).length, 1);
      await a.stop();
      await b.stop();
    });
  });
}
