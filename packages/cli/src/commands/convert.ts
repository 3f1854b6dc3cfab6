import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, relative } from 'node:path';
import type * as OnnxApi from '@iqa-bench/onnx';
import { Command, Option } from 'commander';
import type { Ctx } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import type { ModelLimitFlags } from '../model-limits.js';
import { modelLimitOptions, modelLimits } from '../model-limits.js';
import type { CommonFlags } from '../io.js';
import { commonOptions, examples } from '../options.js';
import { checkpointError, describeConfig, useBackend } from '../scoring.js';
import { renderText } from '../table.js';

type ConvertFormat = 'safetensors' | 'tfjs' | 'onnx';

interface ConvertFlags extends CommonFlags, ModelLimitFlags {
  strict: boolean;
  to?: ConvertFormat;
}

/** Extensions of weight files this command does not write: an output named so would be mistaken for one. */
const FOREIGN_EXTENSIONS = [
  '.pt',
  '.pth',
  '.pkl',
  '.bin',
  '.ckpt',
  '.h5',
  '.npz',
  '.pb',
  '.json',
  '.tar',
  '.zip',
];

/**
 * The format `<out>` asks for: `x.safetensors` a safetensors file; `x.onnx` an ONNX model; `model.json`, a name ending
 * in `/` or a name without an extension a TF.js folder. Any other extension is refused (`convert x.pkl out.pt` would
 * otherwise make a TF.js folder named `out.pt`); `--to` must agree with the name.
 */
export function outputFormat(output: string, to?: ConvertFormat): ConvertFormat {
  const name = basename(output.replace(/[\\/]+$/, ''));
  const folder = /[\\/]$/.test(output) || name === 'model.json';
  const ext = folder ? '' : extname(name).toLowerCase();
  if (ext === '.onnx' || to === 'onnx') {
    if (ext === '.onnx' && (to === undefined || to === 'onnx')) return 'onnx';
    throw new CliError(
      ext === '.onnx'
        ? `<out> ${output}: --to ${to} does not write .onnx; name it for what --to writes`
        : `<out> ${output}: --to onnx writes a .onnx file; name it <name>.onnx`,
      ExitCode.badInput,
      { flag: '--to' },
    );
  }
  if (ext === '.safetensors') {
    if (to === 'tfjs')
      throw new CliError(
        `<out> ${output}: --to tfjs writes a folder; name it without .safetensors`,
        ExitCode.badInput,
        { flag: '--to' },
      );
    return 'safetensors';
  }
  if (to === 'safetensors')
    throw new CliError(
      `<out> ${output}: --to safetensors writes a .safetensors file; name it <name>.safetensors`,
      ExitCode.badInput,
      { flag: '--to' },
    );
  if (ext === '' || (to === 'tfjs' && !FOREIGN_EXTENSIONS.includes(ext))) return 'tfjs';
  throw new CliError(
    `<out> ${output}: convert writes <name>.safetensors, or a TF.js model folder (<dir>/ or <dir>/model.json); ` +
      `'${ext}' would be mistaken for another format`,
  );
}

/** @iqa-bench/onnx (an optional peer dependency): writing .onnx needs it. */
async function onnxExporter(): Promise<typeof OnnxApi> {
  try {
    return await import('@iqa-bench/onnx');
  } catch (err) {
    throw new CliError(
      `<out>: writing ONNX needs @iqa-bench/onnx, which is not installed (npm install @iqa-bench/onnx)`,
      ExitCode.badInput,
      { cause: err },
    );
  }
}

function mib(bytes: number): string {
  return bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${(bytes / 2 ** 10).toFixed(1)} KiB`;
}

export function convertCommand(ctx: Ctx): Command {
  const cmd = new Command('convert')
    .summary('convert a checkpoint (.pkl/.pth/.safetensors) to safetensors or a TF.js model')
    .description(
      "Read a checkpoint — the original's torch.save .pkl (zip or legacy format, storages on cuda:0 are fine), a " +
        "wrapped {'model_hyper' | 'model' | 'model_state_dict' | 'params': state_dict} .pth, or a .safetensors — " +
        'work out its architecture (stored config, else inferred from the tensor names and shapes), check every tensor, ' +
        'and write it as .safetensors with the architecture in its metadata (so the file alone rebuilds the model), or ' +
        'as a TensorFlow.js model folder (model.json + weights) for the browser, or as an ONNX model (.onnx, opset 20, ' +
        'dynamic batch; needs @iqa-bench/onnx) for onnxruntime (--runtime onnx). PyTorch files are read by an ' +
        'allow-list unpickler that never executes them: anything but a state dict (e.g. os.system) is refused.',
    )
    .argument('<in>', 'the checkpoint to read (.pkl, .pth, .pt, .bin, .safetensors)')
    .argument(
      '<out>',
      'out.safetensors, out.onnx, or a TF.js model folder (a name without extension, <dir>/ or <dir>/model.json)',
    )
    .addOption(
      new Option(
        '--to <format>',
        'output format (default: from <out>: .safetensors, .onnx, else a TF.js folder); must agree with <out>',
      ).choices(['safetensors', 'tfjs', 'onnx']),
    )
    .option(
      '--no-strict',
      'load a checkpoint with missing or unexpected tensors (they are listed; missing ones keep seed-0 init)',
    );
  modelLimitOptions(cmd);
  commonOptions(cmd, false).option('--json', 'print what was converted as JSON');
  examples(cmd, [
    'iqa-bench convert koniq_pretrained.pkl koniq.safetensors',
    'iqa-bench convert best_model_srcc_0.9378.pkl smart-base.safetensors',
    'iqa-bench convert smart-base.safetensors web/smart-base/        # TensorFlow.js model for the browser',
    'iqa-bench convert koniq_pretrained.pkl koniq.onnx                # ONNX model for onnxruntime',
  ]);
  return cmd.action(
    ctx.action(async (out, flags: ConvertFlags, input: string, output: string) => {
      const to = outputFormat(output, flags.to);
      const inPath = out.path(input);
      const outPath = out.path(output);
      if (inPath === outPath) throw new CliError('<out> must differ from <in>');
      try {
        if (!(await stat(inPath)).isFile()) throw new CliError(`${input}: not a file`);
      } catch (err) {
        if (err instanceof CliError) throw err;
        throw new CliError(`${input}: no such file`);
      }
      const onnx = to === 'onnx' ? await onnxExporter() : null;
      const m = await import('@iqa-bench/model');
      await useBackend(out, 'cpu');
      let loaded;
      try {
        loaded = await m.loadCheckpoint(inPath, { strict: flags.strict, limits: modelLimits(flags) });
      } catch (err) {
        throw checkpointError(err, inPath, input);
      }
      const { model, config, report } = loaded;
      try {
        if (report.missing.length + report.unexpected.length + report.mismatched.length > 0) {
          out.warn(`${input} (--no-strict): ${m.formatLoadReport(report).replace(/\n/g, '; ')}`);
        }
        let files: string[];
        let wrote: string;
        if (onnx !== null) {
          await mkdir(dirname(outPath), { recursive: true });
          const sha256 = createHash('sha256')
            .update(await readFile(inPath))
            .digest('hex');
          let bytes: number;
          try {
            bytes = await onnx.writeOnnx(outPath, model, {
              checkpointSha256: sha256,
              source: basename(input),
            });
          } catch (err) {
            // The exporter's own words (an unsupported model), or the file that could not be written.
            throw checkpointError(err, inPath, input);
          }
          files = [output];
          wrote = `${output} (ONNX, ${mib(bytes)}, opset ${onnx.ONNX_OPSET}; the checkpoint's sha256 in its metadata)`;
        } else if (to === 'safetensors') {
          await mkdir(dirname(outPath), { recursive: true });
          await m.saveSafetensors(outPath, model.params, config);
          files = [output];
          wrote = `${output} (safetensors, ${mib((await stat(outPath)).size)}, architecture in its metadata)`;
        } else {
          const dir = basename(outPath) === 'model.json' ? dirname(outPath) : outPath;
          const written = await m.saveTfjsModel(dir, model.params, config);
          // Named as the user named <out>: relative paths stay relative.
          const shown = (p: string) => relative(out.io.cwd, p) || p;
          files = [written.modelJson, ...written.shards].map((p) => (isAbsolute(output) ? p : shown(p)));
          wrote =
            `${files[0]} + ${written.shards.length} weight shard(s) of at most 4 MiB ` +
            `(TF.js model, ${mib(written.bytes)})`;
        }
        out.log(`wrote ${wrote}`);
        const summary = {
          input,
          format: loaded.format,
          wrapper: loaded.wrapper,
          architecture: config,
          architectureSource: loaded.configSource,
          tensors: model.params.list().length,
          output: files,
          to,
        };
        out.result(summary, () =>
          renderText({
            columns: [{ header: 'field' }, { header: 'value' }],
            rows: [
              ['input', `${input} (${loaded.format}${loaded.wrapper ? `, under '${loaded.wrapper}'` : ''})`],
              [
                'architecture',
                `${describeConfig(config)} (${loaded.configSource === 'metadata' ? 'stored in the file' : loaded.configSource})`,
              ],
              ['tensors', String(summary.tensors)],
              ['written', wrote],
            ],
          }),
        );
      } finally {
        model.dispose();
      }
    }),
  );
}
