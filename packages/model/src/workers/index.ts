/**
 * `@iqa-bench/model/workers`: the worker runtime under ScoringPool (main entry) and data-parallel training. A
 * ReplicaPool starts worker threads that each select a backend and build one model replica, then serve the requests
 * of a handler module (defineReplicaHandler) named by URL.
 */
export {
  defineReplicaHandler,
  ReplicaError,
  ReplicaPool,
  withTransfer,
  type AnyReplicaHandler,
  type ReplicaHandler,
  type ReplicaInfo,
  type ReplicaPoolOptions,
  type RequestKind,
  type RequestMap,
  type RequestPayload,
  type RequestReply,
  type Transfer,
} from './runtime.js';
