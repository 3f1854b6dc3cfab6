/**
 * `@iqa-bench/complexity/timing`: the pieces measureLatency and measureThroughput are made of: one timed forward,
 * statistics of a series, a batch of repeated images, and out-of-memory detection (with the wasm heap limit).
 */
export {
  isOutOfMemoryError,
  latencyStats,
  repeatBatch,
  timeForward,
  WASM_HEAP_LIMIT_BYTES,
} from '../latency.js';
