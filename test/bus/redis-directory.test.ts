import { after, before } from "node:test";
import { RedisDirectory } from "../../src/bus/redis-directory.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import { directoryContract } from "./directory-contract.js";

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.close();
});

directoryContract("RedisDirectory", {
  node: async (id, ttlMs) => {
    const d = new RedisDirectory({
      url: redis.url,
      nodeId: id,
      ...(ttlMs !== undefined && { ttlMs }),
    });
    await d.start();
    return d;
  },
  kill: (d) => (d as RedisDirectory).kill(),
});
