import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { Command, Option } from 'commander';
import type { Ctx } from '../context.js';
import { CliError } from '../errors.js';
import type { CommonFlags } from '../io.js';
import { commonOptions, examples } from '../options.js';
import { checkpointError, describeConfig, useBackend } from '../scoring.js';
import { renderText } from '../table.js';

interface ConvertFlags extends CommonFlags {
  strict: boolean;
  to?: 'safetensors' | 'tfjs';
}

export function convertCommand(ctx: Ctx): Command {
  const cmd = new Command('convert')
    .summary('convert a checkpoint (.pkl/.pth/.safetensors) to safetensors or a TF.js model')
    .description(
      "Read a checkpoint — the original's torch.save .pkl (zip or legacy format, storages on cuda:0 are fine), a " +
        "wrapped {'model_hyper' | 'model' | 'model_state_dict' | 'params': state_dict} .pth, or a .safetensors — " +
        'work out its architecture (stored config, else inferred from the tensor names and shapes), check every tensor, ' +
        'and write it as .safetensors with the architecture in its metadata (so the file alone rebuilds the model), or ' +
        'as a TensorFlow.js model folder (model.json + weights) for the browser. PyTorch files are read by an ' +
        'allow-list unpickler that never executes them: anything but a state dict (e.g. os.system) is refused.',
    )
    .argument('<in>', 'the checkpoint to read (.pkl, .pth, .pt, .bin, .safetensors)')
    .argument('<out>', 'out.safetensors, or a folder / model.json for a TF.js model')
    .addOption(
      new Option('--to <format>', 'output format (default: from <out>: .safetensors, else tfjs)').choices([
        'safetensors',
        'tfjs',
      ]),
    )
    .option(
      '--no-strict',
      'load a checkpoint with missing or unexpected tensors (they are listed; missing ones keep seed-0 init)',
    );
  commonOptions(cmd, false).option('--json', 'print what was converted as JSON');
  examples(cmd, [
    'iqa-bench convert koniq_pretrained.pkl koniq.safetensors',
    'iqa-bench convert best_model_srcc_0.9378.pkl smart-base.safetensors',
    'iqa-bench convert smart-base.safetensors web/smart-base/        # TensorFlow.js model for the browser',
  ]);
  return cmd.action(
    ctx.action(async (out, flags: ConvertFlags, input: string, output: string) => {
      const to = flags.to ?? (output.toLowerCase().endsWith('.safetensors') ? 'safetensors' : 'tfjs');
      const inPath = out.path(input);
      const outPath = out.path(output);
      if (inPath === outPath) throw new CliError('<out> must differ from <in>');
      try {
        if (!(await stat(inPath)).isFile()) throw new CliError(`${input}: not a file`);
      } catch (err) {
        if (err instanceof CliError) throw err;
        throw new CliError(`${input}: no such file`);
      }
      const m = await import('@iqa-bench/model');
      await useBackend(out, 'cpu');
      let loaded;
      try {
        loaded = await m.loadCheckpoint(inPath, { strict: flags.strict });
      } catch (err) {
        throw checkpointError(err, inPath, input);
      }
      const { model, config, report } = loaded;
      try {
        if (report.missing.length + report.unexpected.length + report.mismatched.length > 0) {
          out.warn(`${input} (--no-strict): ${m.formatLoadReport(report).replace(/\n/g, '; ')}`);
        }
        let files: string[];
        if (to === 'safetensors') {
          await mkdir(dirname(outPath), { recursive: true });
          await m.saveSafetensors(outPath, model.params, config);
          files = [output];
        } else {
          const dir = basename(outPath) === 'model.json' ? outPath.slice(0, -'model.json'.length) : outPath;
          const written = await m.saveTfjsModel(dir, model.params, config);
          files = [written.modelJson, written.shard];
        }
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
              ['written', files.join(', ')],
            ],
          }),
        );
      } finally {
        model.dispose();
      }
    }),
  );
}
