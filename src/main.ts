#!/usr/bin/env -S node --max-semi-space-size=4 --v8-pool-size=1
/**
 * Entry point: reads the config, loads the rooms, starts Parley, and owns the process lifetime.
 * Exit codes: 0 after a graceful shutdown or a drain; 1 on a bootstrap error (bad rooms file, port
 * in use); 2 on a bad command line or environment setting.
 *
 * Signals: SIGINT/SIGTERM stop gracefully (a second one exits at once); SIGHUP runs the hangup
 * actions (re-read the rooms file(s), then the TLS certificate and key); SIGUSR2 drains (see App.drain), then exits 0.
 */
import { ConfigError, helpText, loadConfig } from "./config.js";
import { createLogger, flushLogs } from "./logger.js";
import { loadRooms, RoomsConfigError } from "./room-catalog.js";
import { type App, startApp } from "./app.js";
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
    return superviseWorkers(
      config.workers,
      config.nodeId,
      config.limits.shutdownGraceMs,
      logger,
      config.drainTimeoutMs,
    );
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

  // Listeners from before the start: without one a signal's default action kills the process,
  // and a supervisor (or test) that stops the server as soon as it logs "parley listening" could
  // get there before the handlers below. A stop or drain asked meanwhile is done once started.
  let asked: NodeJS.Signals | undefined;
  const whileStarting = (signal: NodeJS.Signals): void => {
    if (signal === "SIGHUP") logger.info({ signal }, "reload asked while starting: ignored");
    else asked ??= signal;
  };
  const startSignals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGUSR2"];
  for (const s of startSignals) process.on(s, whileStarting);
  let app;
  try {
    app = await startApp({ config, rooms, logger });
  } catch (err) {
    process.stderr.write(`parley: cannot start: ${(err as Error).message}\n`);
    logger.error({ err: String(err) }, "bootstrap failed");
    return 1;
  }

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
    onHangup(hangupActions(app, config.tls !== null), logger);
    process.on("SIGUSR2", () => {
      logger.info({ signal: "SIGUSR2" }, "drain asked");
      app.drain("signal");
    });
    void app.drained.then(() => {
      logger.info({}, "drain complete");
      resolve(0);
    });
    for (const s of startSignals) process.off(s, whileStarting);
    if (asked === "SIGUSR2") process.emit("SIGUSR2", "SIGUSR2");
    else if (asked !== undefined) onSignal(asked);
  });
}

/** What SIGHUP does, in order (each logs and counts its own outcome). */
function hangupActions(
  app: App,
  tls: boolean,
): Array<{ name: string; run: () => Promise<unknown> }> {
  return [
    { name: "rooms", run: () => app.reloadRooms() },
    // TlsListeners logs and counts the outcome; a refused pair leaves the current one serving.
    ...(tls ? [{ name: "tls", run: () => app.reloadTls() }] : []),
  ];
}

/** Runs the hangup actions on each SIGHUP; a SIGHUP during a run queues one more run. */
function onHangup(
  actions: ReadonlyArray<{ name: string; run: () => Promise<unknown> }>,
  logger: Logger,
): void {
  let running: Promise<void> = Promise.resolve();
  process.on("SIGHUP", () => {
    logger.info({ signal: "SIGHUP", actions: actions.map((a) => a.name) }, "reloading");
    running = running.then(async () => {
      for (const a of actions) {
        await a
          .run()
          .catch((err: unknown) =>
            logger.error({ action: a.name, err: String(err) }, "reload action failed"),
          );
      }
    });
  });
}

main().then(
  // flushLogs first: exiting with a log write in flight to a closed pipe would hang (see there)
  (code) => void flushLogs().then(() => process.exit(code)),
  (err: unknown) => {
    process.stderr.write(`parley: fatal: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
