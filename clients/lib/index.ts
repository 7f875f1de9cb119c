// The client library's browser-safe surface. Node-only transports: see node.ts.
export * from "./parley-client.js";
export * from "./transport.js";
export * from "./failover-transport.js";
export * from "./websocket-transport.js";
export * from "./backoff.js";
export * from "./outbox.js";
export * from "./errors.js";
export * from "./clock.js";
export * from "./address.js";
export * from "./emitter.js";
export type * from "../../src/protocol/messages.js";
export { DEFAULT_HISTORY_ON_JOIN } from "./room-sync.js";
export { DEFAULT_HISTORY_PAGE } from "./history-requests.js";
