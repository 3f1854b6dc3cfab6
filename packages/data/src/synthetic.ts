/**
 * A deterministic synthetic IQA dataset, written to disk in the layout of a real one (KADID-10k or KonIQ-10k) so
 * that it is read by the same adapters. Procedural reference scenes (gradients, shapes, stripes, checkers and
 * multi-octave value-noise texture, so every 224 crop has structure and texture) are distorted by five types
 * (Gaussian blur, Gaussian noise, JPEG compression, contrast reduction, colour change: desaturation plus a colour
 * cast) at five levels. The true quality falls strictly with the level; the published scores add seeded rater noise.
 *
 * Same seed, same bytes: all pixels are computed in JavaScript from seedrandom streams (V8's Math functions are
 * software implementations, identical across platforms); PNGs are encoded by fast-png (pure JavaScript deflate);
 * JPEGs (the JPEG distortion, and the KonIQ layout's files) are encoded by sharp/libjpeg with fixed settings, which is
 * byte-stable for a given sharp build.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { encode as encodePng } from 'fast-png';
import { seededRandom } from '@iqa-bench/core/seed';
import sharp from 'sharp';
import type { RgbImage } from './image/decode.js';
import { writeFileAtomic } from '@iqa-bench/core/fs';

export const DISTORTIONS = ['blur', 'noise', 'jpeg', 'contrast', 'colour'] as const;
export type DistortionType = (typeof DISTORTIONS)[number];

/** Parameters per level 1..5 (most severe last). */
export const DISTORTION_LEVELS: Record<DistortionType, readonly number[]> = {
  blur: [1.2, 2.2, 3.5, 5.2, 7.5], // Gaussian sigma (pixels)
  noise: [10, 20, 32, 46, 64], // noise sigma (0–255 units)
  jpeg: [25, 14, 8, 5, 3], // JPEG quality
  contrast: [0.65, 0.45, 0.3, 0.18, 0.1], // contrast factor around the mean
  colour: [0.55, 0.32, 0.16, 0.06, 0], // saturation factor (with a growing colour cast)
};

/**
 * The severity curve over levels (strictly increasing). Quality depends on the level only, the same for every
 * type, so that a model learns "how much distortion" rather than a per-type calibration.
 */
const LEVEL_SEVERITY = [0.1, 0.27, 0.46, 0.66, 0.86];

export interface SyntheticOptions {
  layout: 'kadid10k' | 'koniq10k';
  /** Output folder (created; must be empty unless `overwrite`). */
  out: string;
  seed: string | number;
  /** Number of reference scenes (default 20: 500 rated images in the KADID layout, 520 in the KonIQ layout). */
  refs?: number;
  /**
   * Image size (default 256 × 256: a 224 patch then covers most of the image, so every patch shows the distortion,
   * and generation and decoding stay fast; 512 × 384 gives KADID-10k's and KonIQ's `512x384/` size). At least
   * 224 × 224 for 224-pixel patches with the `none` preset. The KonIQ layout writes the images to `<W>x<H>/`.
   */
  width?: number;
  height?: number;
  /** Simulated raters per image (default 40 for kadid10k, 60 for koniq10k). */
  raters?: number;
  /** Allow writing into a non-empty folder (files of the same names are replaced). */
  overwrite?: boolean;
}

/** One generated image and its ground truth. */
export interface SyntheticImage {
  /** Image id as the adapter will report it. */
  id: string;
  ref: number;
  /** `null` for the pristine reference (KonIQ layout only lists references as images). */
  distortion: DistortionType | null;
  level: number;
  /** Noise-free quality on the layout's scale. */
  trueScore: number;
  /** The published score (with rater noise). */
  score: number;
}

export interface SyntheticResult {
  layout: 'kadid10k' | 'koniq10k';
  root: string;
  images: SyntheticImage[];
  /** Files written, relative to the root, sorted. */
  files: string[];
  /** sha256 over the sorted (name, bytes) of every file: equal hashes mean byte-identical datasets. */
  hash: string;
}

type Rng = () => number;

function gaussian(rng: Rng): number {
  // Box–Muller; 1 − u keeps the log argument in (0, 1].
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const i = Math.floor(h * 6) % 6;
  const f = h * 6 - Math.floor(h * 6);
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const rgb = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ][i];
  return [rgb[0] * 255, rgb[1] * 255, rgb[2] * 255];
}

/** Smooth value noise in [0, 1] with a grid of `cell` pixels. */
function valueNoise(w: number, h: number, cell: number, rng: Rng): Float64Array {
  const gw = Math.ceil(w / cell) + 2;
  const gh = Math.ceil(h / cell) + 2;
  const grid = new Float64Array(gw * gh);
  for (let i = 0; i < grid.length; i++) grid[i] = rng();
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    const gy = y / cell;
    const y0 = Math.floor(gy);
    let ty = gy - y0;
    ty = ty * ty * (3 - 2 * ty);
    for (let x = 0; x < w; x++) {
      const gx = x / cell;
      const x0 = Math.floor(gx);
      let tx = gx - x0;
      tx = tx * tx * (3 - 2 * tx);
      const a = grid[y0 * gw + x0];
      const b = grid[y0 * gw + x0 + 1];
      const c = grid[(y0 + 1) * gw + x0];
      const d = grid[(y0 + 1) * gw + x0 + 1];
      out[y * w + x] = a + (b - a) * tx + (c - a) * ty + (a - b - c + d) * tx * ty;
    }
  }
  return out;
}

/** A procedural reference scene: gradient sky, textured ground, shapes with stripes and checkers, fine texture. */
export function referenceScene(w: number, h: number, rng: Rng): RgbImage {
  const img = new Float64Array(w * h * 3);
  const hue0 = rng();
  const c0 = hsvToRgb(hue0, 0.5 + 0.4 * rng(), 0.75 + 0.25 * rng());
  const c1 = hsvToRgb((hue0 + 0.3 + 0.4 * rng()) % 1, 0.6 + 0.4 * rng(), 0.35 + 0.4 * rng());
  const angle = rng() * Math.PI;
  const ca = Math.cos(angle);
  const sa = Math.sin(angle);
  const diag = Math.abs(ca) * w + Math.abs(sa) * h;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const t = Math.min(1, Math.max(0, ((x - w / 2) * ca + (y - h / 2) * sa) / diag + 0.5));
      for (let c = 0; c < 3; c++) img[(y * w + x) * 3 + c] = c0[c] * (1 - t) + c1[c] * t;
    }
  }
  const shapes = 7 + Math.floor(rng() * 6);
  for (let s = 0; s < shapes; s++) {
    const kind = Math.floor(rng() * 3);
    const cx = rng() * w;
    const cy = rng() * h;
    const r = (0.08 + 0.22 * rng()) * Math.min(w, h);
    const ax = r * (0.6 + 0.8 * rng());
    const ay = r * (0.6 + 0.8 * rng());
    const col = hsvToRgb(rng(), 0.55 + 0.45 * rng(), 0.3 + 0.7 * rng());
    const col2 = hsvToRgb(rng(), 0.3 + 0.7 * rng(), 0.2 + 0.8 * rng());
    // Odd periods, so no pattern lines up with JPEG's 8x8 grid and blocking stays distinguishable from content.
    const period = 3 + 2 * Math.floor(rng() * 5);
    const pattern = 1 + Math.floor(rng() * 2); // 1 stripes, 2 checker
    const x0 = Math.max(0, Math.floor(cx - ax));
    const x1 = Math.min(w, Math.ceil(cx + ax));
    const y0 = Math.max(0, Math.floor(cy - ay));
    const y1 = Math.min(h, Math.ceil(cy + ay));
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const dx = (x - cx) / ax;
        const dy = (y - cy) / ay;
        const inside =
          kind === 0 ? dx * dx + dy * dy <= 1 : kind === 1 ? true : Math.abs(dx) + Math.abs(dy) <= 1;
        if (!inside) continue;
        let useSecond = false;
        if (pattern === 1) useSecond = Math.floor((x + y) / period) % 2 === 1;
        else if (pattern === 2) useSecond = (Math.floor(x / period) + Math.floor(y / period)) % 2 === 1;
        const cc = useSecond ? col2 : col;
        for (let c = 0; c < 3; c++) img[(y * w + x) * 3 + c] = cc[c];
      }
    }
  }
  // Fine multi-octave texture everywhere, so blur and noise are visible in any crop.
  const n1 = valueNoise(w, h, 3, rng);
  const n2 = valueNoise(w, h, 9, rng);
  const n3 = valueNoise(w, h, 29, rng);
  const amp = 40;
  for (let i = 0; i < w * h; i++) {
    const t = amp * (0.5 * (n1[i] - 0.5) + 0.3 * (n2[i] - 0.5) + 0.2 * (n3[i] - 0.5)) * 2;
    for (let c = 0; c < 3; c++) img[i * 3 + c] += t;
  }
  // Stretch to nearly the full range: references have full contrast.
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of img) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const out = new Uint8Array(img.length);
  for (let i = 0; i < img.length; i++)
    out[i] = Math.round(4 + (247 * (img[i] - lo)) / Math.max(1e-9, hi - lo));
  return { width: w, height: h, data: out };
}

function toBytes(v: Float64Array): Uint8Array {
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(v[i])));
  return out;
}

function gaussianBlur(img: RgbImage, sigma: number): RgbImage {
  const r = Math.ceil(3 * sigma);
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  const { width: w, height: h } = img;
  const tmp = new Float64Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let i = -r; i <= r; i++) {
          const xx = Math.min(w - 1, Math.max(0, x + i));
          s += k[i + r] * img.data[(y * w + xx) * 3 + c];
        }
        tmp[(y * w + x) * 3 + c] = s;
      }
    }
  }
  const out = new Float64Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let i = -r; i <= r; i++) {
          const yy = Math.min(h - 1, Math.max(0, y + i));
          s += k[i + r] * tmp[(yy * w + x) * 3 + c];
        }
        out[(y * w + x) * 3 + c] = s;
      }
    }
  }
  return { width: w, height: h, data: toBytes(out) };
}

function addNoise(img: RgbImage, sigma: number, rng: Rng): RgbImage {
  const v = new Float64Array(img.data.length);
  // Box–Muller pairs: both outputs of each draw are used.
  for (let i = 0; i < v.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng()));
    const a = 2 * Math.PI * rng();
    v[i] = img.data[i] + sigma * r * Math.cos(a);
    if (i + 1 < v.length) v[i + 1] = img.data[i + 1] + sigma * r * Math.sin(a);
  }
  return { ...img, data: toBytes(v) };
}

function reduceContrast(img: RgbImage, factor: number): RgbImage {
  let mean = 0;
  for (const x of img.data) mean += x;
  mean /= img.data.length;
  const v = new Float64Array(img.data.length);
  for (let i = 0; i < v.length; i++) v[i] = mean + factor * (img.data[i] - mean);
  return { ...img, data: toBytes(v) };
}

function changeColour(img: RgbImage, saturation: number, level: number): RgbImage {
  const v = new Float64Array(img.data.length);
  const cast = [1, 0.35, -0.8].map((c) => c * 12 * level);
  for (let i = 0; i < v.length; i += 3) {
    const g = 0.299 * img.data[i] + 0.587 * img.data[i + 1] + 0.114 * img.data[i + 2];
    for (let c = 0; c < 3; c++) v[i + c] = g + saturation * (img.data[i + c] - g) + cast[c];
  }
  return { ...img, data: toBytes(v) };
}

const JPEG_SETTINGS = {
  chromaSubsampling: '4:2:0',
  mozjpeg: false,
  trellisQuantisation: false,
  overshootDeringing: false,
  optimiseScans: false,
  optimiseCoding: true,
  quantisationTable: 0,
  progressive: false,
} as const;

async function encodeJpeg(img: RgbImage, quality: number): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({ quality, ...JPEG_SETTINGS })
    .toBuffer();
}

async function jpegRoundTrip(img: RgbImage, quality: number): Promise<RgbImage> {
  const jpg = await encodeJpeg(img, quality);
  const { data, info } = await sharp(jpg).raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error('unexpected JPEG decode channels');
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

/** Applies one distortion at level 1..5. */
export async function distort(
  img: RgbImage,
  type: DistortionType,
  level: number,
  rng: Rng,
): Promise<RgbImage> {
  const p = DISTORTION_LEVELS[type][level - 1];
  switch (type) {
    case 'blur':
      return gaussianBlur(img, p);
    case 'noise':
      return addNoise(img, p, rng);
    case 'jpeg':
      return jpegRoundTrip(img, p);
    case 'contrast':
      return reduceContrast(img, p);
    case 'colour':
      return changeColour(img, p, level);
  }
}

/** Noise-free quality in [0, 1] of a distorted version of a reference of quality `q0`. */
export function trueQuality(q0: number, type: DistortionType | null, level: number): number {
  if (type === null || level === 0) return q0;
  return q0 * (1 - LEVEL_SEVERITY[level - 1]);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function csvQuote(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** Generates the synthetic dataset (see the module comment). */
export async function generateSynthetic(options: SyntheticOptions): Promise<SyntheticResult> {
  const refs = options.refs ?? 20;
  const w = options.width ?? 256;
  const h = options.height ?? 256;
  if (!Number.isInteger(refs) || refs < 1)
    throw new RangeError(`refs must be a positive integer, got ${refs}`);
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 16 || h < 16)
    throw new RangeError(`image size must be at least 16x16, got ${w}x${h}`);
  const layout = options.layout;
  if (layout !== 'kadid10k' && layout !== 'koniq10k')
    throw new RangeError(`layout must be "kadid10k" or "koniq10k", got ${JSON.stringify(layout)}`);
  const raters = options.raters ?? (layout === 'kadid10k' ? 40 : 60);
  const root = path.resolve(options.out);
  await fs.mkdir(root, { recursive: true });
  if (!options.overwrite && (await fs.readdir(root)).length > 0) {
    throw new Error(`${root} is not empty; pass overwrite: true or choose an empty folder`);
  }
  const seed = String(options.seed);
  const files = new Map<string, Uint8Array>();
  const images: SyntheticImage[] = [];
  const digits = Math.max(2, String(refs).length);
  const koniqDir = `${w}x${h}`;
  const koniqRows: { name: string; counts: number[]; mos: number; sd: number; z: number; set: string }[] = [];
  const kadidRows: string[] = [];

  // Reference-disjoint official split for the KonIQ layout: 70/10/20 of the references.
  const refOrder = Array.from({ length: refs }, (_, i) => i + 1);
  const splitRng = seededRandom('iqa-bench', 'synthetic', seed, 'sets');
  for (let i = refOrder.length - 1; i > 0; i--) {
    const j = Math.floor(splitRng() * (i + 1));
    [refOrder[i], refOrder[j]] = [refOrder[j], refOrder[i]];
  }
  const nTest = refs >= 3 ? Math.max(1, Math.round(refs * 0.2)) : 0;
  const nVal = refs >= 3 ? Math.max(1, Math.round(refs * 0.1)) : 0;
  const setOf = new Map<number, string>();
  refOrder.forEach((r, i) => setOf.set(r, i < nTest ? 'test' : i < nTest + nVal ? 'validation' : 'training'));

  for (let ref = 1; ref <= refs; ref++) {
    const sceneRng = seededRandom('iqa-bench', 'synthetic', seed, 'scene', ref);
    const scene = referenceScene(w, h, sceneRng);
    const q0 = 0.93 + 0.02 * sceneRng();
    const refName = `I${pad(ref, digits)}.png`;
    const versions: { type: DistortionType | null; level: number; img: RgbImage }[] = [
      { type: null, level: 0, img: scene },
    ];
    for (let t = 0; t < DISTORTIONS.length; t++) {
      for (let level = 1; level <= 5; level++) {
        const rng = seededRandom('iqa-bench', 'synthetic', seed, 'distort', ref, t, level);
        versions.push({ type: DISTORTIONS[t], level, img: await distort(scene, DISTORTIONS[t], level, rng) });
      }
    }
    for (const v of versions) {
      const t = v.type === null ? 0 : DISTORTIONS.indexOf(v.type) + 1;
      const q = trueQuality(q0, v.type, v.level);
      const raterRng = seededRandom('iqa-bench', 'synthetic', seed, 'raters', ref, t, v.level);
      if (layout === 'kadid10k') {
        if (v.type === null) {
          files.set(
            `images/${refName}`,
            encodePng({ width: w, height: h, data: v.img.data, channels: 3, depth: 8 }),
          );
          continue;
        }
        const name = `I${pad(ref, digits)}_${pad(t, 2)}_${pad(v.level, 2)}.png`;
        files.set(
          `images/${name}`,
          encodePng({ width: w, height: h, data: v.img.data, channels: 3, depth: 8 }),
        );
        const truth = 1 + 4 * q;
        const ratings = Array.from({ length: raters }, () =>
          Math.min(5, Math.max(1, truth + 0.5 * gaussian(raterRng))),
        );
        const mean = ratings.reduce((a, b) => a + b, 0) / raters;
        const variance = ratings.reduce((a, b) => a + (b - mean) ** 2, 0) / (raters - 1);
        const dmos = Math.round(mean * 100) / 100;
        kadidRows.push(`${name},${refName},${dmos.toFixed(2)},${variance.toFixed(3)}`);
        images.push({ id: name, ref, distortion: v.type, level: v.level, trueScore: truth, score: dmos });
      } else {
        const name = `${pad(ref, digits)}${pad(t, 2)}${v.level}.jpg`.replace(/^/, '1');
        files.set(`${koniqDir}/${name}`, await encodeJpeg(v.img, 92));
        const truth = 1 + 4 * q;
        const counts = [0, 0, 0, 0, 0];
        for (let r = 0; r < raters; r++) {
          const rating = Math.min(5, Math.max(1, Math.round(truth + 0.7 * gaussian(raterRng))));
          counts[rating - 1]++;
        }
        const mean = counts.reduce((a, c, i) => a + c * (i + 1), 0) / raters;
        const sd = Math.sqrt(counts.reduce((a, c, i) => a + c * (i + 1 - mean) ** 2, 0) / (raters - 1));
        const mos = Math.round(mean * 100) / 100;
        const z = Math.round(((mean - 1) / 4) * 100 * 100) / 100;
        koniqRows.push({
          name,
          counts,
          mos,
          sd: Math.round(sd * 100) / 100,
          z,
          set: setOf.get(ref) ?? 'training',
        });
        images.push({
          id: name,
          ref,
          distortion: v.type,
          level: v.level,
          trueScore: ((truth - 1) / 4) * 100,
          score: z,
        });
      }
    }
  }
  if (layout === 'kadid10k') {
    files.set(
      'dmos.csv',
      new TextEncoder().encode(['dist_img,ref_img,dmos,var', ...kadidRows].join('\n') + '\n'),
    );
  } else {
    const head = ['image_name', 'c1', 'c2', 'c3', 'c4', 'c5', 'c_total'];
    const scores = [
      [...head, 'MOS', 'SD', 'MOS_zscore'].map(csvQuote).join(','),
      ...koniqRows.map((r) =>
        [
          csvQuote(r.name),
          ...r.counts,
          r.counts.reduce((a, b) => a + b, 0),
          r.mos.toFixed(2),
          r.sd.toFixed(2),
          r.z.toFixed(2),
        ].join(','),
      ),
    ];
    const sets = [
      [...head, 'MOS', 'SD', 'set'].join(','),
      ...koniqRows.map((r) =>
        [
          r.name,
          ...r.counts,
          r.counts.reduce((a, b) => a + b, 0),
          r.z.toFixed(2),
          r.sd.toFixed(2),
          r.set,
        ].join(','),
      ),
    ];
    files.set('koniq10k_scores_and_distributions.csv', new TextEncoder().encode(scores.join('\n') + '\n'));
    files.set('koniq10k_distributions_sets.csv', new TextEncoder().encode(sets.join('\n') + '\n'));
  }
  const names = [...files.keys()].sort();
  const hash = createHash('sha256');
  for (const n of names) {
    const bytes = files.get(n) as Uint8Array;
    hash.update(n).update('\0').update(String(bytes.length)).update('\0').update(bytes);
    await writeFileAtomic(path.join(root, n), bytes);
  }
  images.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { layout, root, images, files: names, hash: hash.digest('hex') };
}
