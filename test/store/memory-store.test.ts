import { MemoryStore } from "../../src/store/memory-store.js";
import { messageStoreContract } from "./contract.js";

// No reopen: a MemoryStore's history ends with it.
messageStoreContract("MemoryStore", { create: () => Promise.resolve(new MemoryStore()) });
