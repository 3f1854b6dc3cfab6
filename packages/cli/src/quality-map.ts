/**
 * Quality maps (`predict --map <dir>`): where in an image the model sees good or bad quality. A regular grid of crops at
 * the model's input size is scored (the `grid` crops of @iqa-bench/model's cropOrigins), the scores are interpolated
 * between the crop centres, colour-mapped (viridis) and blended over the image as the model saw it (after
 * `--preprocess`). A legend on the right gives the score scale and, for models with attention fusion, the image's four
 * stage fusion weights as bars. Next to each `<name>.map.png` a `<name>.map.json` sidecar holds the numbers.
 */
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, sep } from 'node:path';
import { writeFileAtomic } from '@iqa-bench/core/fs';
import type { RgbImage } from '@iqa-bench/data';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { interpolateViridis } from 'd3-scale-chromatic';
import sharp from 'sharp';
import { CliError, describeError, ExitCode } from './errors.js';
import type { Output } from './io.js';
import { positiveInt } from './options.js';
import { el, svgDoc, text } from './report/svg.js';
import type { Scorer } from '@iqa-bench/scorer';
import type { ScoreFlags, ScoreJob, ScoreOutcome } from './scoring.js';

export const QUALITY_MAP_SCHEMA = 'iqa-bench/quality-map@1';
/** Crops of a map by default: a 4 × 4 grid. */
export const DEFAULT_MAP_CROPS = 16;
/** At most a 20 × 20 grid: every crop is a forward pass. */
export const MAX_MAP_CROPS = 400;
/** Width of the legend panel right of the map, in pixels. */
export const LEGEND_WIDTH = 200;
/** Height of the legend: without fusion weights, and with them (the PNG is at least this tall). */
export const LEGEND_HEIGHT = 250;
export const LEGEND_HEIGHT_FUSION = 380;
/** Names of the four backbone stages whose features attention fusion weighs. */
export const FUSION_STAGES = ['stage 1', 'stage 2', 'stage 3', 'stage 4'] as const;

/**
 * The grid of K crops: ⌈√K⌉ rows of ⌈K / rows⌉ columns, row-major, as @iqa-bench/model's cropOrigins lays out its
 * `grid` crops. A map needs the grid full (rows × columns = K).
 */
export function gridShape(count: number): { rows: number; cols: number } {
  const rows = Math.ceil(Math.sqrt(count));
  return { rows, cols: Math.ceil(count / rows) };
}

/** Parser of `--map-crops`: a positive integer that fills its grid, at most MAX_MAP_CROPS. */
export function mapCropsOption(value: string): number {
  const n = positiveInt(value);
  if (n > MAX_MAP_CROPS) throw new InvalidArgumentError(`expected at most ${MAX_MAP_CROPS} crops.`);
  const { rows, cols } = gridShape(n);
  if (rows * cols !== n) {
    let below = n - 1;
    while (below > 1 && gridShape(below).rows * gridShape(below).cols !== below) below--;
    let above = n + 1;
    while (gridShape(above).rows * gridShape(above).cols !== above) above++;
    throw new InvalidArgumentError(
      `expected a number of crops that fills a grid of ⌈√n⌉ rows (${n} leaves ${rows * cols - n} of ${rows}×${cols} empty): e.g. ${below} or ${above}.`,
    );
  }
  return n;
}

export interface QualityMapFlags {
  map?: string;
  mapCrops: number;
  /** The result file: map paths in it are relative to its folder. */
  out?: string;
}

/** Adds `--map <dir>` and `--map-crops <n>`. */
export function qualityMapOptions(cmd: Command): Command {
  return cmd
    .option(
      '--map <dir>',
      'also write a quality map per image into <dir>: <name>.map.png (crop scores colour-mapped over the image, with the stage fusion weights of an attention-fusion model) and <name>.map.json',
    )
    .option(
      '--map-crops <n>',
      `crops of a quality map, a full grid of ⌈√n⌉ rows (4, 6, 9, 12, 16, 20, 25, …; at most ${MAX_MAP_CROPS})`,
      mapCropsOption,
      DEFAULT_MAP_CROPS,
    );
}

/** [r, g, b] of every level of the viridis colour map (256 levels). */
const VIRIDIS: readonly (readonly [number, number, number])[] = Array.from({ length: 256 }, (_, i) => {
  const hex = interpolateViridis(i / 255);
  return [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16)) as [number, number, number];
});

/** The viridis colour of t ∈ [0, 1] (dark purple at 0, yellow at 1), as d3's interpolateViridis. */
export function viridis(t: number): readonly [number, number, number] {
  return VIRIDIS[Math.max(0, Math.min(255, Math.floor(t * 256)))];
}

/** The share of the colour map in a map pixel: 3/5 colour, 2/5 image. */
export const MAP_OPACITY = 0.6;

/** A map pixel: the colour blended over the image pixel, `round((3 · colour + 2 · image) / 5)` per channel. */
export function blendChannel(colour: number, image: number): number {
  return Math.round((3 * colour + 2 * image) / 5);
}

/** Where along one axis a pixel falls between two crop centres: the two grid indices and the weight of the second. */
function axisWeights(
  len: number,
  centres: readonly number[],
): { i0: Int32Array; i1: Int32Array; w: Float64Array } {
  const i0 = new Int32Array(len);
  const i1 = new Int32Array(len);
  const w = new Float64Array(len);
  const last = centres.length - 1;
  let k = 0;
  for (let p = 0; p < len; p++) {
    if (p <= centres[0]) continue; // i0 = i1 = 0, w = 0
    if (p >= centres[last]) {
      i0[p] = last;
      i1[p] = last;
      continue;
    }
    while (!(centres[k] <= p && p < centres[k + 1])) k++;
    i0[p] = k;
    i1[p] = k + 1;
    w[p] = (p - centres[k]) / (centres[k + 1] - centres[k]);
  }
  return { i0, i1, w };
}

/**
 * The score at every pixel of a `width` × `height` image: the crop scores of a rows × cols grid (row-major, crop
 * `origins` [y, x] of `size`-pixel crops) placed at the crop centres (origin + ⌊size / 2⌋), interpolated bilinearly
 * between them and held constant beyond the outer ones. At a crop centre it is that crop's score exactly.
 */
export function scoreField(
  width: number,
  height: number,
  size: number,
  shape: { rows: number; cols: number },
  origins: readonly (readonly [number, number])[],
  scores: readonly number[],
): Float64Array {
  const { rows, cols } = shape;
  if (origins.length !== rows * cols || scores.length !== rows * cols)
    throw new Error(`a ${rows}x${cols} grid needs ${rows * cols} crops, got ${origins.length}`);
  const half = Math.floor(size / 2);
  const ys = Array.from({ length: rows }, (_, r) => origins[r * cols][0] + half);
  const xs = Array.from({ length: cols }, (_, c) => origins[c][1] + half);
  const ay = axisWeights(height, ys);
  const ax = axisWeights(width, xs);
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    const r0 = ay.i0[y] * cols;
    const r1 = ay.i1[y] * cols;
    const wy = ay.w[y];
    for (let x = 0; x < width; x++) {
      const c0 = ax.i0[x];
      const c1 = ax.i1[x];
      const wx = ax.w[x];
      const top = (1 - wx) * scores[r0 + c0] + wx * scores[r0 + c1];
      const bottom = (1 - wx) * scores[r1 + c0] + wx * scores[r1 + c1];
      out[y * width + x] = (1 - wy) * top + wy * bottom;
    }
  }
  return out;
}

/**
 * The scale of an image's map: its lowest and highest crop score. `flat` when they differ by less than float32 scores
 * can tell apart (1e-5 of their magnitude): the crops then score the same, and the differences are rounding noise that
 * the colours must not blow up.
 */
export function scoreScale(scores: readonly number[]): { lo: number; hi: number; flat: boolean } {
  const lo = Math.min(...scores);
  const hi = Math.max(...scores);
  return { lo, hi, flat: !(hi - lo > 1e-5 * Math.max(1, Math.abs(lo), Math.abs(hi))) };
}

/** A score on its image's scale: 0 at the lowest crop score, 1 at the highest; 0.5 on a flat scale. */
export function normalise(v: number, scale: { lo: number; hi: number; flat: boolean }): number {
  return scale.flat ? 0.5 : Math.max(0, Math.min(1, (v - scale.lo) / (scale.hi - scale.lo)));
}

/** What a map shows: the image as scored, its grid of crops with their scores and, with attention fusion, weights. */
export interface QualityMapData {
  image: RgbImage;
  cropSize: number;
  shape: { rows: number; cols: number };
  origins: readonly (readonly [number, number])[];
  scores: readonly number[];
  /** The image's score as predict reports it (mean over `--patches` crops). */
  score: number;
  /** The image's stage fusion weights (attention fusion only). */
  fusion?: readonly number[];
}

/** Up to four significant digits, no exponent for ordinary scores. */
function num(v: number): string {
  return String(Number(v.toPrecision(4)));
}

/** The legend panel: the colour scale with its ends in score units, and the stage fusion weights as bars. */
export function legendSvg(d: QualityMapData, height: number): string {
  const { lo, hi, flat } = scoreScale(d.scores);
  const barTop = 56;
  const barH = 150;
  const stops = Array.from({ length: 17 }, (_, i) => {
    const [r, g, b] = viridis(1 - i / 16);
    return el('stop', { offset: i / 16, 'stop-color': `rgb(${r},${g},${b})` });
  });
  const body = [
    text(12, 20, 'quality map', { 'font-size': 14, 'font-weight': 'bold' }),
    text(12, 38, `${d.shape.rows}×${d.shape.cols} crops of ${d.cropSize} px`, { 'font-size': 11 }),
    el('defs', {}, el('linearGradient', { id: 'viridis', x1: 0, y1: 0, x2: 0, y2: 1 }, stops)),
    el('rect', { x: 12, y: barTop, width: 18, height: barH, fill: 'url(#viridis)', stroke: '#999999' }),
    ...(flat
      ? [text(36, barTop + barH / 2 + 4, `all crops ${num(hi)}`, { 'font-size': 11 })]
      : [
          text(36, barTop + 9, `${num(hi)} highest crop`, { 'font-size': 11 }),
          text(36, barTop + barH, `${num(lo)} lowest crop`, { 'font-size': 11 }),
        ]),
    text(12, barTop + barH + 24, `image score ${num(d.score)}`, { 'font-size': 12 }),
  ];
  if (d.fusion) {
    const top = barTop + barH + 60;
    body.push(text(12, top, 'stage fusion weights', { 'font-size': 12, 'font-weight': 'bold' }));
    d.fusion.forEach((w, i) => {
      const y = top + 14 + i * 26;
      body.push(
        text(12, y + 13, FUSION_STAGES[i], { 'font-size': 11 }),
        el('rect', { x: 64, y, width: 90, height: 16, fill: '#eeeeee' }),
        el('rect', { x: 64, y, width: 90 * Math.max(0, Math.min(1, w)), height: 16, fill: '#1f77b4' }),
        text(158, y + 13, w.toFixed(2), { 'font-size': 11 }),
      );
    });
  }
  return svgDoc(LEGEND_WIDTH, height, 'quality map legend', body);
}

/** Size of the map PNG of an image of `width` × `height`: the image, the legend right of it. */
export function mapPngSize(
  width: number,
  height: number,
  fusion: boolean,
): { width: number; height: number } {
  return {
    width: width + LEGEND_WIDTH,
    height: Math.max(height, fusion ? LEGEND_HEIGHT_FUSION : LEGEND_HEIGHT),
  };
}

/**
 * The map as PNG: each pixel of the image blended with the viridis colour of its normalised score (see scoreField,
 * normalise, blendChannel), the legend right of it, white below a short image.
 */
export async function renderQualityMap(d: QualityMapData): Promise<Buffer> {
  const { width, height, data } = d.image;
  const field = scoreField(width, height, d.cropSize, d.shape, d.origins, d.scores);
  const scale = scoreScale(d.scores);
  const px = Buffer.alloc(width * height * 3);
  for (let i = 0; i < field.length; i++) {
    const c = viridis(normalise(field[i], scale));
    for (let k = 0; k < 3; k++) px[i * 3 + k] = blendChannel(c[k], data[i * 3 + k]);
  }
  const size = mapPngSize(width, height, d.fusion !== undefined);
  const canvas = await sharp(px, { raw: { width, height, channels: 3 } })
    .extend({ right: size.width - width, bottom: size.height - height, background: '#ffffff' })
    .composite([{ input: Buffer.from(legendSvg(d, size.height)), left: width, top: 0 }])
    .raw()
    .toBuffer({ resolveWithObject: true });
  return sharp(canvas.data, {
    raw: { width: canvas.info.width, height: canvas.info.height, channels: canvas.info.channels },
  })
    .removeAlpha()
    .png({ compressionLevel: 9 })
    .toBuffer();
}

/** Characters kept in a map's file name; others become `_`. */
const UNSAFE = /[^\p{L}\p{N}._ -]/gu;

/**
 * File stems of the maps of `paths`, one per path and distinct even on a case-insensitive file system: the image's
 * name without its extension (`photos/a.jpg` → `a`); when that is taken, with the extension (`a-png`), then numbered
 * (`a-jpg-2`).
 */
export function mapStems(paths: readonly string[]): string[] {
  const taken = new Set<string>();
  return paths.map((p) => {
    const ext = extname(p);
    const stem = (basename(p, ext).replace(UNSAFE, '_') || 'image').replace(/^\./, '_');
    const withExt = ext === '' ? stem : `${stem}-${ext.slice(1).replace(UNSAFE, '_')}`;
    let name = stem;
    if (taken.has(name.toLowerCase())) name = withExt;
    for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${withExt}-${n}`;
    taken.add(name.toLowerCase());
    return name;
  });
}

/** Where an image's map was written, relative to the result file's folder (or the working folder). */
export interface MapFiles {
  png: string;
  json: string;
}

/** The `<name>.map.json` sidecar. */
export interface QualityMapSidecar {
  schema: typeof QUALITY_MAP_SCHEMA;
  /** The image, relative to the working folder predict ran in. */
  image: string;
  /** The PNG next to this file. */
  map: string;
  score: number;
  /** The image as the model saw it (after preprocessing); the map's pixels are its pixels. */
  width: number;
  height: number;
  preprocess: string;
  cropSize: number;
  grid: { rows: number; cols: number };
  /** Row-major: top-left corner [y, x], score and (attention fusion) the crop's stage fusion weights. */
  crops: { origin: [number, number]; score: number; fusion?: number[] }[];
  /** The crop scores that the colour map's ends stand for; flat: all crops score the same (one colour). */
  range: { min: number; max: number; flat: boolean };
  colormap: 'viridis';
  opacity: number;
  /** Attention fusion only: the mean of the crops' weights of the four stages (sums to 1); else null. */
  fusion: { stages: string[]; weights: number[] } | null;
}

/** Writes the quality maps of one predict run; made by prepareQualityMaps. */
export class QualityMaps {
  constructor(
    private readonly out: Output,
    private readonly flags: QualityMapFlags & ScoreFlags,
    private readonly dir: string,
    private readonly jobs: readonly ScoreJob[],
    private readonly stems: readonly string[],
  ) {}

  /** What the predictions' settings record. */
  get settings(): { map: string; mapCrops: number } {
    return { map: this.flags.map as string, mapCrops: this.flags.mapCrops };
  }

  /** A path as the result file records it: relative to its folder (or the working folder), with `/`. */
  private recorded(abs: string): string {
    const base = this.flags.out !== undefined ? dirname(this.out.path(this.flags.out)) : this.out.io.cwd;
    return relative(base, abs).split(sep).join('/');
  }

  /** Writes the map of every job that has a score; returns the files per job (undefined for the others). */
  async write(scorer: Scorer, outcomes: readonly ScoreOutcome[]): Promise<(MapFiles | undefined)[]> {
    const data = await import('@iqa-bench/data');
    const size = scorer.config.backbone.imgSize;
    const shape = gridShape(this.flags.mapCrops);
    const files: (MapFiles | undefined)[] = new Array(this.jobs.length).fill(undefined);
    const todo = this.jobs.map((_, i) => i).filter((i) => outcomes[i]?.score !== undefined);
    const progress = this.out.progress('map', todo.length);
    try {
      for (const i of todo) {
        const job = this.jobs[i];
        const png = join(this.dir, `${this.stems[i]}.map.png`);
        const json = join(this.dir, `${this.stems[i]}.map.json`);
        try {
          // The image as scoreMany scored it: decoded, then resized by its preset.
          const rgb = await data.decodeImage(
            job.path,
            this.flags.maxPixels !== undefined ? { maxPixels: this.flags.maxPixels } : {},
          );
          const image = data.applyResize(rgb, data.RESIZE_PRESETS[job.preset]);
          // Scored as it is (already resized), normalised by the scorer.
          const grid = await scorer.score(image, {
            preprocess: 'none',
            crops: this.flags.mapCrops,
            mode: 'grid',
            batchSize: this.flags.batchSize,
            name: job.id,
          });
          const fusion = grid.fusionWeights;
          const d: QualityMapData = {
            image,
            cropSize: size,
            shape,
            origins: grid.origins,
            scores: grid.cropScores,
            score: outcomes[i].score?.score as number,
            ...(fusion ? { fusion } : {}),
          };
          const sidecar: QualityMapSidecar = {
            schema: QUALITY_MAP_SCHEMA,
            image: job.id,
            map: basename(png),
            score: d.score,
            width: image.width,
            height: image.height,
            preprocess: job.preset,
            cropSize: size,
            grid: shape,
            crops: grid.origins.map((origin, k) => ({
              origin,
              score: grid.cropScores[k],
              ...(grid.cropFusionWeights ? { fusion: grid.cropFusionWeights[k] } : {}),
            })),
            range: (({ lo, hi, flat }) => ({ min: lo, max: hi, flat }))(scoreScale(grid.cropScores)),
            colormap: 'viridis',
            opacity: MAP_OPACITY,
            fusion: fusion ? { stages: [...FUSION_STAGES], weights: fusion } : null,
          };
          await writeFileAtomic(png, await renderQualityMap(d));
          await writeFileAtomic(json, `${JSON.stringify(sidecar, null, 2)}\n`);
        } catch (err) {
          throw new CliError(
            `--map ${this.flags.map}: the map of ${job.id} was not written: ${describeError(err)}`,
            ExitCode.badInput,
            { flag: '--map', cause: err },
          );
        }
        files[i] = { png: this.recorded(png), json: this.recorded(json) };
        progress.tick();
      }
    } finally {
      progress.stop();
    }
    this.out.log(`wrote ${todo.length} quality map(s) to ${this.flags.map}`);
    return files;
  }
}

/**
 * Before scoring: without `--map`, undefined; else checks that `--map` is (or can be made) a folder, creates it, and
 * names each job's map so that no two collide and none replaces an input image.
 */
export async function prepareQualityMaps(
  out: Output,
  flags: QualityMapFlags & ScoreFlags,
  jobs: readonly ScoreJob[],
): Promise<QualityMaps | undefined> {
  if (flags.map === undefined) return undefined;
  const dir = out.path(flags.map);
  const fail = (why: string, cause?: unknown): never => {
    throw new CliError(`--map ${flags.map}: ${why}`, ExitCode.badInput, { flag: '--map', cause });
  };
  try {
    await mkdir(dir, { recursive: true });
    if (!(await stat(dir)).isDirectory()) fail('not a folder');
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    fail(
      code === 'EEXIST' || code === 'ENOTDIR'
        ? 'not a folder (a file of that name is in the way)'
        : `cannot create the folder: ${describeError(err).replace(`${dir}: `, '')}`,
      err,
    );
  }
  const stems = mapStems(jobs.map((j) => j.path));
  const inputs = new Set(jobs.map((j) => j.path));
  stems.forEach((s) => {
    const clash = [join(dir, `${s}.map.png`), join(dir, `${s}.map.json`)].find((f) => inputs.has(f));
    if (clash !== undefined) fail(`its map ${basename(clash)} would replace an image being scored`);
  });
  return new QualityMaps(out, flags, dir, jobs, stems);
}
