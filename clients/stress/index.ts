// The stress tool's programmatic surface (used by bench/run.ts and the tests).
export { runScenario, type ProgressInfo, type RunHooks } from "./run-scenario.js";
export * from "./stress-options.js";
export * from "./stress-report.js";
export type { Measurement } from "./measurement.js";
export { LatencyHistogram } from "./latency-histogram.js";
export { sampleProcess, parseProcess } from "./process-sampler.js";
export type { TransportTarget } from "./links/index.js";
