import { MemoryDirectory, MemoryDirectoryHub } from "../../src/bus/memory-directory.js";
import { directoryContract } from "./directory-contract.js";

const hub = new MemoryDirectoryHub();
directoryContract("MemoryDirectory", {
  node: async (id, ttlMs) => {
    const d = new MemoryDirectory(hub, id, ttlMs);
    await d.start();
    return d;
  },
  kill: (d) => (d as MemoryDirectory).kill(),
});
