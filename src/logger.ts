import { pino, type Logger as PinoLogger } from "pino";
import type { Logger } from "./core/index.js";

/** Every logger made here, for flushLogs. */
const loggers = new Set<PinoLogger>();

/** Structured JSON logs on stdout, one object per line. */
export function createLogger(level: string): Logger & { level: string } {
  const logger = pino({ level, base: { service: "parley" } });
  loggers.add(logger);
  return logger;
}

/** What flushLogs reads of pino's stdout stream (sonic-boom): whether a write is in flight. */
interface StdoutStream {
  _writing?: boolean;
  _len?: number;
  write: unknown;
}

/**
 * Waits (at most `timeoutMs`, default 2 s) until the loggers' asynchronous writes to stdout are
 * done; call it before process.exit. Why: pino's exit hook flushes stdout synchronously and retries
 * a failed write every 100 ms without end. When the log reader is gone (a `| tee` killed with the
 * server's process group) and the process exits while a write is in flight, its EPIPE has not
 * reached pino yet and that retry hangs the process instead of letting it exit. Once the EPIPE
 * is in, pino stops logging to the broken pipe and the exit hook does nothing.
 */
export async function flushLogs(timeoutMs = 2_000): Promise<void> {
  const streams = [...loggers].map(
    (l) => (l as unknown as Record<symbol, StdoutStream>)[pino.symbols.streamSym],
  );
  const deadline = Date.now() + timeoutMs;
  const busy = (s: StdoutStream | undefined): boolean =>
    s !== undefined && (s._writing === true || (s._len ?? 0) > 0);
  while (streams.some(busy) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
}
