#!/usr/bin/env node
/**
 * Entry point: reads the config, loads the rooms, starts Parley, and owns the process lifetime.
 * Exit codes: 0 after a graceful shutdown; 1 on a bootstrap error (bad rooms file, port in use);
 * 2 on a bad command line or environment setting.
 */
import { ConfigError, helpText, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { loadRooms, RoomsConfigError } from "./room-catalog.js";
import { startApp } from "./app.js";
import type { Logger } from "./core/index.js";
import { isWorker, superviseWorkers, workerNodeId } from "./workers.js";

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`parley: ${err.message}\n\n${helpText()}`);
      return 2;
    }
    throw err;
  }
  if (config === "help") {
    process.stdout.write(helpText());
    return 0;
  }
  const logger = createLogger(config.logLevel);
  if (config.workers > 0 && !isWorker()) {
    return superviseWorkers(config.workers, config.nodeId, config.limits.shutdownGraceMs, logger);
  }
  // a worker is a node of its own: its id comes from its supervisor
  config.nodeId = workerNodeId(process.env) ?? config.nodeId;
  let rooms;
  try {
    rooms = loadRooms(config.roomsPath);
  } catch (err) {
    if (err instanceof RoomsConfigError) {
      process.stderr.write(`parley: bad rooms configuration: ${err.message}\n`);
      logger.error({ code: err.code, err: err.message }, "bootstrap failed");
      return 1;
    }
    throw err;
  }

  let app;
  try {
    app = await startApp({ config, rooms, logger });
  } catch (err) {
    process.stderr.write(`parley: cannot start: ${(err as Error).message}\n`);
    logger.error({ err: String(err) }, "bootstrap failed");
    return 1;
  }

  // SIGHUP: each entry re-reads one thing, in turn; a failure is logged and the server goes on.
  const onHangup: Array<() => Promise<void>> = [];
  // TlsListeners logs and counts the outcome; a refused pair leaves the current one serving.
  if (config.tls !== null) onHangup.push(() => app.reloadTls().then(() => {}));
  process.on("SIGHUP", () => void hangup(onHangup, logger));

  return new Promise<number>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        logger.warn({ signal }, "second signal: exiting now");
        resolve(1);
        return;
      }
      signalled = true;
      logger.info({ signal, graceMs: config.limits.shutdownGraceMs }, "shutting down");
      app.stop().then(
        () => {
          logger.info({}, "shutdown complete");
          resolve(0);
        },
        (err: unknown) => {
          logger.error({ err: String(err) }, "shutdown failed");
          resolve(1);
        },
      );
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

let hangingUp: Promise<void> = Promise.resolve();

/** Runs the SIGHUP reloads; a SIGHUP during one waits for it. */
function hangup(steps: ReadonlyArray<() => Promise<void>>, logger: Logger): Promise<void> {
  hangingUp = hangingUp.then(async () => {
    logger.info({ signal: "SIGHUP", steps: steps.length }, "reloading");
    for (const step of steps) {
      await step().catch((err: unknown) => logger.error({ err: String(err) }, "reload failed"));
    }
  });
  return hangingUp;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`parley: fatal: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
