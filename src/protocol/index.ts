// The protocol layer's public surface: message types, codec, framers, error codes, display-name rules.
export * from "./messages.js";
export * from "./codec.js";
export * from "./error-codes.js";
export * from "./line-framer.js";
export * from "./length-prefixed-framer.js";
export * from "./strict-utf8.js";
export * from "./encoded-event.js";
export * from "./websocket-frame.js";
export * from "./display-name.js";
