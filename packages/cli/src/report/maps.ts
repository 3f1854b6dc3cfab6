/**
 * The report's quality-map section: from a `predict --out` file whose images have quality maps (`predict --map`), the
 * maps of its lowest- and highest-scored images, embedded in the page.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { FileError, readFileBounded } from '@iqa-bench/core/fs';
import sharp from 'sharp';
import { PREDICTIONS_SCHEMA } from '../commands/predict.js';
import { CliError } from '../errors.js';
import { readJsonFile } from '../json-file.js';
import type { Figure, Section } from './report.js';
import { svgDoc, el } from './svg.js';

/** A map PNG larger than this is refused (a 4000 × 3000 map is ~20 MB at worst). */
export const MAX_MAP_BYTES = 48 * 1024 * 1024;
const MAX_MAP_PIXELS = 64_000_000;

/** A map as the report shows it. */
export interface ShownMap {
  image: string;
  score: number;
  /** The map file, as the predictions file names it. */
  file: string;
  png: Buffer;
  width: number;
  height: number;
}

export interface PredictionMaps {
  /** The predictions file as the user named it. */
  file: string;
  checkpoint?: string;
  images: number;
  scored: number;
  withMaps: number;
  lowest?: ShownMap;
  highest?: ShownMap;
}

type JsonObject = { [k: string]: unknown };
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Reads and checks one map PNG named by a predictions file (relative to the file's folder). */
async function readMap(
  base: string,
  label: string,
  field: string,
  rel: string,
): Promise<Pick<ShownMap, 'png' | 'width' | 'height'>> {
  const bad = (why: string): never => {
    throw new CliError(`${label}: ${field} ${JSON.stringify(rel)}: ${why}`, undefined, { file: label });
  };
  if (isAbsolute(rel)) bad('expected a path relative to the predictions file');
  let png: Buffer;
  try {
    png = await readFileBounded(resolve(base, rel), MAX_MAP_BYTES, 'quality map');
  } catch (err) {
    return bad(err instanceof FileError ? err.message.slice(err.file.length + 2) : String(err));
  }
  if (!png.subarray(0, 8).equals(PNG_SIGNATURE)) bad('not a PNG file');
  try {
    const meta = await sharp(png, { limitInputPixels: MAX_MAP_PIXELS }).metadata();
    if (meta.format !== 'png' || !meta.width || !meta.height) return bad('not a PNG image');
    return { png, width: meta.width, height: meta.height };
  } catch (err) {
    return bad(`not a readable PNG (${(err as Error).message.split('\n')[0]})`);
  }
}

/**
 * Reads a predictions file (size-bounded) and the maps of its lowest- and highest-scored images that have one. Errors
 * name the file (as the user typed it) and the field.
 */
export async function readPredictionMaps(path: string, label: string): Promise<PredictionMaps> {
  const v = await readJsonFile(path, label);
  const fail = (field: string, expected: string, got: unknown): never => {
    const shown =
      typeof got === 'string' ? JSON.stringify(got.slice(0, 60)) : got === undefined ? 'nothing' : typeof got;
    throw new CliError(`${label}: ${field}: expected ${expected}, got ${shown}`, undefined, { file: label });
  };
  if (!isObject(v)) return fail('(top level)', 'an object', v);
  if (v.schema !== PREDICTIONS_SCHEMA)
    fail('schema', `"${PREDICTIONS_SCHEMA}" (a predict --out file)`, v.schema);
  if (!Array.isArray(v.images)) return fail('images', 'an array', v.images);
  const withMap: { image: string; score: number; file: string; field: string }[] = [];
  let scored = 0;
  v.images.forEach((e: unknown, i) => {
    if (!isObject(e)) return fail(`images[${i}]`, 'an object', e);
    if (typeof e.path !== 'string') fail(`images[${i}].path`, 'a string', e.path);
    if (e.score !== null && !(typeof e.score === 'number' && Number.isFinite(e.score)))
      fail(`images[${i}].score`, 'a number or null', e.score);
    if (typeof e.score !== 'number') return;
    scored++;
    if (e.map === undefined) return;
    if (!isObject(e.map) || typeof e.map.png !== 'string')
      return fail(`images[${i}].map`, 'an object with png (a file name)', e.map);
    withMap.push({ image: e.path as string, score: e.score, file: e.map.png, field: `images[${i}].map.png` });
  });
  const out: PredictionMaps = { file: label, images: v.images.length, scored, withMaps: withMap.length };
  if (typeof v.checkpoint === 'string') out.checkpoint = v.checkpoint;
  if (withMap.length === 0) return out;
  // The first of equal scores, in file order.
  const lo = withMap.reduce((a, b) => (b.score < a.score ? b : a));
  const hi = withMap.reduce((a, b) => (b.score > a.score ? b : a));
  const base = dirname(path);
  const show = async (m: (typeof withMap)[number]): Promise<ShownMap> => ({
    image: m.image,
    score: m.score,
    file: m.file,
    ...(await readMap(base, label, m.field, m.file)),
  });
  out.lowest = await show(lo);
  if (hi !== lo) out.highest = await show(hi);
  return out;
}

/** A map as a report figure: an SVG that embeds the PNG; the PNG itself is the figure's PNG file. */
function mapFigure(name: string, caption: string, m: ShownMap): Figure {
  const href = `data:image/png;base64,${m.png.toString('base64')}`;
  return {
    name,
    caption,
    svg: svgDoc(m.width, m.height, caption, [
      el('image', { x: 0, y: 0, width: m.width, height: m.height, href }),
    ]),
    png: m.png,
  };
}

/** The section of one predictions file: what was scored, and the maps of its lowest- and highest-scored images. */
export function mapsSection(label: string, maps: PredictionMaps, index = 0): Section {
  const by = maps.checkpoint !== undefined ? ` by ${maps.checkpoint}` : '';
  const paragraphs = [`${maps.file}: ${maps.scored} of ${maps.images} image(s) scored${by}.`];
  const figures: Figure[] = [];
  const score = (s: number) => String(Number(s.toPrecision(4)));
  if (maps.lowest === undefined) {
    paragraphs.push('No quality maps in this file (predict writes them with --map <dir>).');
  } else {
    paragraphs.push(
      `Quality maps of the ${maps.highest ? 'lowest- and highest-scored images' : 'only image with a map'} (${maps.withMaps} image(s) have one): ` +
        "the scores of a grid of crops, interpolated between the crop centres and coloured over the image as the model saw it, on each image's own scale " +
        '(viridis: dark purple at its lowest crop score, yellow at its highest). For a model with attention fusion the legend also shows ' +
        "the image's weights of the four backbone stages (the mean over the crops).",
    );
    const lo = maps.lowest;
    figures.push(
      mapFigure(
        `quality-map-${index + 1}-lowest`,
        `${maps.highest ? 'Lowest' : 'Only'} score: ${lo.image} (${score(lo.score)}), ${lo.file}`,
        lo,
      ),
    );
    if (maps.highest) {
      const hi = maps.highest;
      figures.push(
        mapFigure(
          `quality-map-${index + 1}-highest`,
          `Highest score: ${hi.image} (${score(hi.score)}), ${hi.file}`,
          hi,
        ),
      );
    }
  }
  return { title: `Quality maps: ${label}`, paragraphs, figures };
}
