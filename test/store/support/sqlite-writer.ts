/**
 * Child process for the SQLite kill -9 test: appends batches of 50 to room "a" of the file in
 * argv[2], one per loop turn, and prints each acknowledged head on its own line (stdout to a pipe
 * is synchronous on Linux, so a printed head was acknowledged before the next batch starts).
 * Stops by itself after 60 s or 500,000 messages if nobody kills it.
 */
import { SqliteStore } from "../../../src/store/sqlite-store.js";

const store = new SqliteStore({ path: process.argv[2]! });
const head = (await store.open(["a"])).get("a")!.head;
setTimeout(() => process.exit(1), 60_000).unref();
for (let offset = head; offset < 500_000;) {
  const batch = [];
  for (let i = 0; i < 50; i++) {
    offset++;
    batch.push({
      room: "a",
      offset,
      ts: Date.now(),
      user: "w",
      name: "writer",
      text: `m${offset}`,
    });
  }
  await store.append(batch);
  process.stdout.write(`${offset}\n`);
  await new Promise((resolve) => setImmediate(resolve));
}
