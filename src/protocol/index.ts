// The protocol layer's public surface: message types, codec, framers and error codes.
export * from "./messages.js";
export * from "./codec.js";
export * from "./error-codes.js";
export * from "./line-framer.js";
export * from "./length-prefixed-framer.js";
export * from "./encoded-event.js";
