// The chat core's public surface, for transports and main.ts.
export * from "./chat-server.js";
export * from "./session.js";
export * from "./room.js";
export * from "./room-manager.js";
export * from "./limits.js";
export * from "./errors.js";
export * from "./ports.js";
export * from "./middleware.js";
export * from "./counter-metrics.js";
export * from "./token-bucket.js";
export * from "./dedup.js";
export * from "./drain.js";
export * from "./external-publisher.js";
export * from "./room-events.js";
