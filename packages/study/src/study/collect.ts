/**
 * What the study report is made from: one record per planned run (finished or not, never left out) with its
 * overrides, config, result (per-image predictions), training curve and model size, and the study's declaration.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ResultFile } from '@iqa-bench/metrics';
import { parseResultFile } from '@iqa-bench/metrics';
import { readFileBounded } from '@iqa-bench/core/fs';
import { parseStructuredText } from '@iqa-bench/core/text';
import type { StudyCurvePoint, StudyReportInput, StudyRunRecord, StudyRunStatus } from '../report/input.js';
import { queueStatus } from '../queue/queue.js';
import { DEFAULT_QUEUE_NAME } from '../queue/queue.js';
import type { QueueCallOptions } from '../queue/queue.js';
import type { ResolveOptions, ResolvedStudy } from './resolve.js';
import { resolveStudy } from './resolve.js';
import { RESULT_FILE } from './run.js';
import type { StudyRunState } from './state.js';
import { studyState } from './state.js';

export interface CollectOptions extends ResolveOptions, QueueCallOptions {
  /** A queue to ask about runs that are not finished (queued / running / failed there). */
  queue?: { url: string; name?: string };
  /**
   * The model size of each variant (parameters, GMACs of one crop of the run's patch size, as it trains and is
   * evaluated) through @iqa-bench/complexity: a forward pass
   * per distinct model, cached in the study folder (`complexity.json`). Default true.
   */
  complexity?: boolean;
}

/** The curve of round 0 from a run folder's metrics.jsonl (undefined when there is none or it is unreadable). */
async function curveOf(runDir: string): Promise<StudyCurvePoint[] | undefined> {
  const file = join(runDir, 'metrics.jsonl');
  if (!existsSync(file)) return undefined;
  try {
    const { readMetricsLog } = await import('@iqa-bench/train/run-folder');
    const log = await readMetricsLog(file);
    const points: StudyCurvePoint[] = [];
    for (const r of log.records) {
      if (r.kind !== 'epoch' || r.round !== 0) continue;
      points.push({
        epoch: r.epoch,
        ...(Number.isFinite(r.loss) ? { trainLoss: r.loss } : {}),
        ...(r.val !== undefined && Number.isFinite(r.val.srcc) ? { valSrcc: r.val.srcc } : {}),
        ...(r.val !== undefined && Number.isFinite(r.val.plcc) ? { valPlcc: r.val.plcc } : {}),
      });
    }
    return points;
  } catch {
    return undefined;
  }
}

async function resultOf(runDir: string): Promise<ResultFile> {
  const file = join(runDir, RESULT_FILE);
  const text = (await readFileBounded(file, 256 << 20, 'result file')).toString('utf8');
  return parseResultFile(parseStructuredText(text, { file, format: 'json' }), file);
}

function statusOf(s: StudyRunState): { status: StudyRunStatus; error?: string } {
  switch (s.state) {
    case 'done':
      return { status: 'done' };
    case 'edited':
      return { status: 'failed', error: `edited by hand: ${s.detail}` };
    case 'failed':
      return { status: 'failed', error: s.detail ?? 'failed' };
    case 'running':
      return { status: 'running' };
    case 'interrupted':
      return {
        status: 'missing',
        error: `interrupted after ${s.epochsDone ?? 0} epoch(s); resumes on the next study run`,
      };
    case 'missing':
      return { status: 'missing' };
  }
}

/** The evaluation settings the report states, from the study's resolved runs. */
function settingsOf(study: ResolvedStudy): Record<string, string | number | boolean> {
  const c = study.runs[0].config;
  const evalSets = study.runs[0].evalSets.map((e) => `${e.name} (${e.kind})`).join(', ');
  return {
    dataset: c.dataset.kind,
    'split hash': study.split.manifest.hash,
    'split counts': Object.entries(study.split.manifest.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(' / '),
    'test patches': c.patches.test,
    'patch size': c.patches.size,
    'test crop': c.augmentation.testCrop,
    preprocess: c.dataset.preprocess,
    seeds: study.seeds.join(', '),
    backend: c.backend,
    'evaluated weights': 'round 0, best epoch on the validation part',
    'model size input': `${c.patches.size}×${c.patches.size} crop`,
    ...(evalSets !== '' ? { 'evaluation sets': evalSets } : {}),
  };
}

/** The parameters and GMACs of each distinct model of the study, cached in `complexity.json` of the study folder. */
async function complexityOf(study: ResolvedStudy): Promise<Map<string, { params: number; gmacs: number }>> {
  const { canonicalJson, sha256 } = await import('./resolve.js');
  const { readFile } = await import('node:fs/promises');
  const { writeJsonAtomic } = await import('@iqa-bench/core/fs');
  const cacheFile = join(study.outDir, 'complexity.json');
  let cache: Record<string, { params: number; gmacs: number }> = {};
  try {
    cache = JSON.parse(await readFile(cacheFile, 'utf8')) as typeof cache;
  } catch {
    cache = {};
  }
  const out = new Map<string, { params: number; gmacs: number }>();
  let changed = false;
  for (const run of study.runs) {
    const { modelConfigOf } = await import('@iqa-bench/train');
    const mc = modelConfigOf(run.config);
    const key = sha256(canonicalJson(mc)).slice(0, 16);
    if (cache[key] === undefined) {
      const m = await import('@iqa-bench/model');
      const { analyzeModel } = await import('@iqa-bench/complexity');
      await m.selectBackend(run.config.backend);
      const model = m.createModel(mc, { seed: 1 });
      try {
        const report = await analyzeModel(model, { name: run.variant, latency: false, reference: null });
        const r = report.models[0];
        cache[key] = { params: r.params.total, gmacs: r.ops.whole.macs / 1e9 };
        changed = true;
      } finally {
        model.dispose();
      }
    }
    out.set(run.runId, cache[key]);
  }
  if (changed) await writeJsonAtomic(cacheFile, cache).catch(() => undefined);
  return out;
}

/**
 * Collects the report input of a study: its declaration and one record per planned run, in plan order. Runs that are
 * not finished are records with their status (and, given a queue, the queue's word on them); a finished run whose
 * files were edited by hand is `failed` with the files named.
 */
export async function collectStudyReportInput(
  study: string | ResolvedStudy,
  outDir: string,
  options: CollectOptions = {},
): Promise<StudyReportInput> {
  const resolved = typeof study === 'string' ? await resolveStudy(study, outDir, options) : study;
  const states = await studyState(resolved);
  const queued = new Map<string, { status: StudyRunStatus; error?: string }>();
  if (options.queue !== undefined) {
    const ids = states.filter((s) => s.state !== 'done' && s.state !== 'edited').map((s) => s.spec.runId);
    if (ids.length > 0) {
      const qs = await queueStatus(options.queue.url, options.queue.name ?? DEFAULT_QUEUE_NAME, {
        ...options,
        ids,
      });
      for (const j of qs.jobs) {
        if (j.state === 'active') queued.set(j.id, { status: 'running' });
        else if (j.state === 'failed')
          queued.set(j.id, { status: 'failed', error: j.failedReason ?? 'failed' });
        else if (j.state !== 'missing' && j.state !== 'completed') queued.set(j.id, { status: 'queued' });
      }
    }
  }
  const sizes =
    options.complexity === false
      ? new Map<string, { params: number; gmacs: number }>()
      : await complexityOf(resolved);
  const runs: StudyRunRecord[] = [];
  for (const s of states) {
    let st = statusOf(s);
    const q = queued.get(s.spec.runId);
    if (q !== undefined && st.status !== 'failed') st = q;
    const record: StudyRunRecord = {
      runId: s.spec.runId,
      variant: s.spec.variant,
      seed: s.spec.seed,
      status: st.status,
      ...(st.error !== undefined ? { error: st.error } : {}),
      overrides: s.spec.overrides,
      config: s.spec.config as unknown as Record<string, unknown>,
    };
    if (st.status === 'done') {
      try {
        record.result = await resultOf(s.runDir);
      } catch (err) {
        record.status = 'failed';
        record.error = `result.json: ${(err as Error).message}`;
      }
    }
    const curve = await curveOf(s.runDir);
    if (curve !== undefined) record.curve = curve;
    const size = sizes.get(s.spec.runId);
    if (size !== undefined) record.complexity = size;
    runs.push(record);
  }
  return {
    name: resolved.name,
    baseline: resolved.baseline,
    ...(resolved.chain !== undefined ? { chain: resolved.chain } : {}),
    seeds: resolved.seeds,
    sweeps: resolved.sweeps,
    settings: settingsOf(resolved),
    runs,
  };
}
