/**
 * `@iqa-bench/complexity/timing`: the pieces measureLatency and measureThroughput are made of: one timed forward,
 * a timed series of any call, statistics of a series and its throughput entry, a batch of repeated images, and out-of-memory detection (with the wasm heap limit).
 */
export {
  isOutOfMemoryError,
  latencyStats,
  repeatBatch,
  repeatTimed,
  throughputOf,
  timeForward,
  WASM_HEAP_LIMIT_BYTES,
} from '../latency.js';
