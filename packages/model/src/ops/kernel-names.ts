/**
 * Names of the custom kernels the model registers with `tf.registerKernel`, for whatever reads kernel traces (the
 * complexity counter of @iqa-bench/complexity). Inputs and attributes, as a trace shows them:
 *
 * - Copies (no arithmetic; wasm and cpu; ops/kernels.ts):
 *   `IqaWindowPartition` x [B, H, W, C] → [B·nW·N, C] (torch.roll by -shift, then Swin window partition),
 *   `IqaWindowReverse` x [B·nW·N, C] → [B, H, W, C] (its inverse), `IqaSliceRows` x → rows [begin, begin + size).
 * - Fused compute (wasm inference; ops/simd.ts), each standing for the tfjs ops it replaces:
 *   `IqaGeluGate` x → x + x·erf(x) per element; `IqaNormalize` x → (x - mean)/√(var + eps) over the last axis;
 *   `IqaWindowAttention` q, k, v [B·nW·N, heads·d] and bias [nW | 1, heads, N, N] → softmax(q·kᵀ + bias)·v per window
 *   and head, [B·nW·N, heads·d].
 */
export const WINDOW_PARTITION_KERNEL = 'IqaWindowPartition';
export const WINDOW_REVERSE_KERNEL = 'IqaWindowReverse';
export const SLICE_ROWS_KERNEL = 'IqaSliceRows';
export const GELU_GATE_KERNEL = 'IqaGeluGate';
export const NORMALIZE_KERNEL = 'IqaNormalize';
export const WINDOW_ATTENTION_KERNEL = 'IqaWindowAttention';

/** The copy kernels (pure data movement). */
export const MODEL_COPY_KERNELS = [
  WINDOW_PARTITION_KERNEL,
  WINDOW_REVERSE_KERNEL,
  SLICE_ROWS_KERNEL,
] as const;

/** The fused compute kernels. */
export const MODEL_FUSED_KERNELS = [GELU_GATE_KERNEL, NORMALIZE_KERNEL, WINDOW_ATTENTION_KERNEL] as const;
