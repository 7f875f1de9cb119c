// History backends (each implements core's MessageStore) and the `--store` setting, for main.ts.
export * from "./store-error.js";
export * from "./memory-store.js";
export * from "./sqlite-store.js";
export * from "./postgres-store.js";
export * from "./open-store.js";
