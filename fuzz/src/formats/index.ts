/** Every fuzzed format, by name. */
import type { FormatSpec } from '../types.js';
import { configJson, configYaml } from './config.js';
import { csvFormat, datasetJsonFormat, matFormat, xlsxFormat } from './datasets.js';
import { bmpFormat, jpegFormat, pngFormat, tiffFormat } from './images.js';
import { selftestFormat } from './selftest.js';
import { resultFormat, runFolderFormat, splitManifestFormat } from './records.js';
import { safetensorsFormat, tfjsFormat, torchLegacyFormat, torchZipFormat } from './weights.js';

const ALL: readonly FormatSpec[] = [
  torchZipFormat,
  torchLegacyFormat,
  safetensorsFormat,
  tfjsFormat,
  bmpFormat,
  pngFormat,
  jpegFormat,
  tiffFormat,
  csvFormat,
  xlsxFormat,
  matFormat,
  datasetJsonFormat,
  splitManifestFormat,
  configJson,
  configYaml,
  resultFormat,
  runFolderFormat,
];

/** Every format a child can run (the campaign formats and the harness self-test). */
export const FORMATS: ReadonlyMap<string, FormatSpec> = new Map(
  [...ALL, selftestFormat].map((f) => [f.name, f]),
);
/** The formats a campaign fuzzes, in table order. */
export const FORMAT_NAMES: readonly string[] = ALL.map((f) => f.name);
