/**
 * Test support: a synthetic study's report input built from generated predictions (real numbers, scored the way a run
 * scores its test images): every variant predicts the shared images' MOS plus an image effect shared by all runs and
 * its own noise, at a per-variant noise level, so a lower level is a better variant by a known margin.
 */
// From the source, not the package: the study package's own typecheck runs before its build.
import type {
  StudyReportInput,
  StudyRunRecord,
  StudyRunStatus,
} from '../../packages/study/src/report/input.js';

/** A small deterministic generator (mulberry32) and standard normals by Box–Muller. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

export interface SyntheticVariant {
  name: string;
  /** Noise level of its predictions (the baseline's is around 0.3). */
  noise: number;
  overrides?: Record<string, unknown>;
  complexity?: { params: number; gmacs: number };
  /** Status per seed; absent seeds are `done`. */
  status?: Record<number, StudyRunStatus>;
}

export interface SyntheticStudyOptions {
  variants: SyntheticVariant[];
  seeds?: number[];
  images?: number;
  crossImages?: number;
  chain?: string[];
  sweeps?: StudyReportInput['sweeps'];
  seed?: number;
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

/** The study's input: variants in the given order, the first one the baseline, each run with a training curve. */
export function syntheticStudy(options: SyntheticStudyOptions): StudyReportInput {
  const seeds = options.seeds ?? [0, 1, 2];
  const n = options.images ?? 60;
  const nx = options.crossImages ?? 40;
  const normal = generator(options.seed ?? 1);
  const mos = Array.from({ length: n }, () => round6(3 + normal()));
  const mosX = Array.from({ length: nx }, () => round6(50 + 15 * normal()));
  const effect = Array.from({ length: n }, () => normal());
  const effectX = Array.from({ length: nx }, () => normal());
  const image = Array.from({ length: n }, (_, i) => `img${String(i).padStart(4, '0')}.jpg`);
  const imageX = Array.from({ length: nx }, (_, i) => `x${String(i).padStart(3, '0')}.png`);
  const runs: StudyRunRecord[] = [];
  for (const v of options.variants) {
    for (const seed of seeds) {
      const status = v.status?.[seed] ?? 'done';
      const run: StudyRunRecord = {
        runId: `${v.name}-s${seed}`,
        variant: v.name,
        seed,
        status,
        overrides: v.overrides ?? {},
        config: { seed, ...(v.overrides ?? {}) },
        ...(v.complexity ? { complexity: v.complexity } : {}),
      };
      if (status === 'failed') run.error = 'loss became NaN at epoch 2';
      if (status === 'done' || status === 'running') {
        run.curve = [1, 2, 3].map((epoch) => ({
          epoch,
          trainLoss: round6(0.5 / epoch + v.noise),
          valSrcc: round6(0.95 - v.noise / epoch),
          valPlcc: round6(0.96 - v.noise / epoch),
        }));
      }
      if (status === 'done') {
        const score = mos.map((m, i) => round6(m + v.noise * (0.5 * effect[i] + normal())));
        const scoreX = mosX.map((m, i) => round6(-m / 15 + v.noise * (0.5 * effectX[i] + normal())));
        run.result = {
          schema: 'iqa-bench/result@1',
          kind: 'train',
          datasets: [
            { name: 'koniq-test', n, metrics: {}, predictions: { image: [...image], score, mos: [...mos] } },
            {
              name: 'live',
              n: nx,
              direction: 'lower-better',
              metrics: {},
              predictions: { image: [...imageX], score: scoreX, mos: [...mosX] },
            },
          ],
        };
      }
      runs.push(run);
    }
  }
  return {
    name: 'synthetic',
    baseline: options.variants[0].name,
    ...(options.chain ? { chain: options.chain } : {}),
    seeds,
    sweeps: options.sweeps ?? [],
    settings: {
      patches: 25,
      crop: 'center',
      preprocess: 'resize 512',
      seeds: seeds.join(', '),
      split: 'sha256:ab12',
    },
    runs,
  };
}
