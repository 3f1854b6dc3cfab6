import type { ModelPresetName } from '@iqa-bench/model';
import { Command } from 'commander';
import type { Ctx } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import type { CommonFlags } from '../io.js';
import { PRESET_FACTS, presetNames, resolvePreset } from '../models.js';
import { commonOptions, examples } from '../options.js';
import { renderText } from '../table.js';

interface ModelRow {
  preset: ModelPresetName;
  arch: string;
  backbone: string;
  backboneName: string | null;
  params: number;
  gmacs: number;
  inputSize: number;
  fusion: string;
  aliases: string[];
}

async function rows(): Promise<ModelRow[]> {
  const m = await import('@iqa-bench/model');
  return m.PRESET_NAMES.map((preset) => {
    const config = m.presetConfig(preset);
    const f = PRESET_FACTS[preset];
    return {
      preset,
      arch: config.arch,
      backbone: f.backbone,
      backboneName: f.backboneName,
      params: f.params,
      gmacs: f.macs / 1e9,
      inputSize: config.backbone.imgSize,
      fusion: config.fusion,
      aliases: presetNames(preset).slice(1),
    };
  });
}

export function modelsCommand(ctx: Ctx): Command {
  const cmd = new Command('models')
    .summary('list the model presets: parameters, GMACs, input size, fusion, backbone (timm names)')
    .description(
      'List the model presets, like pyiqa -ls: architecture, backbone (with the timm / torchvision name of its ' +
        'ImageNet weights), parameters and GMACs of one image through the whole model (counted by ' +
        '@iqa-bench/complexity), input size and feature fusion. A preset also answers to its backbone name ' +
        '(swin_tiny_patch4_window7_224 → smart-iqa-tiny, resnet50 → hyperiqa-resnet50) and to the names listed as ' +
        'aliases, wherever a preset is named (complexity --model). With a name: that preset only.',
    )
    .argument('[name]', 'a preset, a backbone name or an alias');
  commonOptions(cmd, false).option('--json', 'print the presets as JSON');
  examples(cmd, [
    'iqa-bench models',
    'iqa-bench models swin_tiny_patch4_window7_224',
    'iqa-bench models --json',
  ]);
  return cmd.action(
    ctx.action(async (out, _flags: CommonFlags, name: string | undefined) => {
      let list = await rows();
      if (name !== undefined) {
        const preset = resolvePreset(name);
        if (preset === undefined) {
          throw new CliError(
            `no model preset or alias "${name}"; expected one of ${list.flatMap((r) => [r.preset, ...r.aliases]).join(', ')}`,
            ExitCode.badInput,
          );
        }
        list = list.filter((r) => r.preset === preset);
        if (preset !== name) out.log(`${name} is ${preset}`);
      }
      out.result({ presets: list }, () =>
        renderText({
          columns: [
            { header: 'preset' },
            { header: 'backbone' },
            { header: 'params (M)', align: 'right' },
            { header: 'GMACs', align: 'right' },
            { header: 'input', align: 'right' },
            { header: 'fusion' },
            { header: 'also answers to' },
          ],
          rows: list.map((r) => [
            r.preset,
            r.backboneName ? `${r.backbone} (${r.backboneName})` : r.backbone,
            (r.params / 1e6).toFixed(2),
            r.gmacs.toFixed(2),
            `${r.inputSize}x${r.inputSize}`,
            r.fusion,
            r.aliases.join(', '),
          ]),
        }),
      );
    }),
  );
}
