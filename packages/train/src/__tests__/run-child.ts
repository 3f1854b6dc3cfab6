/** `node --import tsx run-child.ts <runDir> <configJson>`: runTraining in a child process (the SIGKILL test). */
import { parseTrainConfig } from '../config.js';
import { createProgress } from '../run/progress.js';
import { runTraining } from '../run-training.js';

const [runDir, cfgJson] = process.argv.slice(2);
await runTraining(parseTrainConfig(JSON.parse(cfgJson)), runDir, {
  progress: createProgress({ mode: 'quiet' }),
  onStep: (s) => process.stdout.write(`step ${s.round} ${s.epoch} ${s.step}\n`),
});
process.stdout.write('done\n');
