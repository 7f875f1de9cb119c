// The stress tool's programmatic surface (used by bench/run.ts, bench/soak.ts and the tests).
export {
  pairedRooms,
  QUIET_MS,
  runScenario,
  type ProgressInfo,
  type RunHooks,
} from "./run-scenario.js";
export { LoadEngine } from "./load-engine.js";
export * from "./stress-options.js";
export * from "./stress-report.js";
export type { Measurement } from "./measurement.js";
export { LatencyHistogram, type LatencySummary } from "./latency-histogram.js";
export { sampleProcess, parseProcess, type ProcessSample } from "./process-sampler.js";
export type { TransportTarget } from "./links/index.js";
