/**
 * How a residual block holds its activations (`ForwardContext.blockMemory`):
 * - `none`: plain ops; under a gradient tape every intermediate is kept until the backward pass.
 * - `tidy`: each block runs in its own tf.tidy (inference: only block outputs stay alive).
 * - `checkpoint`: activation checkpointing. The block runs as one custom-gradient op that keeps only its input; the
 *   backward pass re-runs the block under a tape (same dropout / drop-path seeds) and differentiates that.
 *   Gradients equal the plain ones (a test holds them bit-identical); memory drops to about one block's activations.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext, SeedSource } from './backbone.js';
import { customOp } from './ops/custom.js';

export type BlockFn = (x: tf.Tensor, params: tf.Tensor[], ctx: ForwardContext) => tf.Tensor;

/** Runs `fn(x, params, ctx)` with the memory policy of `ctx`. `params` must be every trainable tensor fn reads. */
export function runBlock(ctx: ForwardContext, x: tf.Tensor, params: tf.Tensor[], fn: BlockFn): tf.Tensor {
  const mode = ctx.blockMemory ?? 'none';
  if (mode === 'none') return fn(x, params, ctx);
  if (mode === 'tidy') return tf.tidy(() => fn(x, params, ctx));
  // checkpoint: record the seeds the forward draws, replay them in the recomputation.
  const drawn: number[] = [];
  const recording: ForwardContext = { ...ctx, blockMemory: 'none', seeds: recorder(ctx.seeds, drawn) };
  const op = customOp(([xi, ...ps], save) => {
    save([xi]);
    return {
      value: fn(xi, ps, recording),
      gradFunc: (dy, [xs]) => {
        let i = 0;
        const replay: SeedSource = () => {
          if (i >= drawn.length)
            throw new Error('checkpointed block drew more seeds in recomputation than in forward');
          return drawn[i++];
        };
        const again: ForwardContext = { ...ctx, blockMemory: 'none', seeds: ctx.seeds ? replay : undefined };
        // tf.grads here runs inside the outer backward pass: it starts a fresh tape and, when done, clears the
        // engine's active tape, which still belongs to the outer gradient computation. Keep and restore it.
        const state = tf.engine().state;
        const outerTape = state.activeTape;
        try {
          return tf.grads((xr: tf.Tensor, ...pr: tf.Tensor[]) => fn(xr, pr, again))([xs, ...ps], dy);
        } finally {
          state.activeTape = outerTape;
        }
      },
    };
  });
  return op(x, ...params);
}

function recorder(source: SeedSource | undefined, drawn: number[]): SeedSource | undefined {
  if (!source) return undefined;
  return () => {
    const s = source();
    drawn.push(s);
    return s;
  };
}
