import { pino } from "pino";
import type { Logger } from "./core/index.js";

/** Structured JSON logs on stdout, one object per line. */
export function createLogger(level: string): Logger & { level: string } {
  return pino({ level, base: { service: "parley" } });
}
