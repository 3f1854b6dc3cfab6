#!/usr/bin/env node
// Long fuzzing runs of every untrusted file format iqa-bench reads (fuzz/README.md): each input in a sandboxed child
// process with a deadline and a memory ceiling; prints inputs per format and outcome class, saves a reproducer of
// every raw error, hang, crash and side effect, and exits 1 if there was any.
// Usage: npx turbo run build && node bench/fuzz.mjs [--minutes 1] [--seed S] [--formats a,b] [--workers 2]
//          [--timeout-ms 5000] [--findings bench/results/fuzz-findings] [--nice 10]
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { register } from 'tsx/esm/api';

register();
const { formatTable, runCampaign } = await import('../fuzz/src/campaign.ts');
const { FORMAT_NAMES } = await import('../fuzz/src/formats/index.ts');

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    seed: { type: 'string', default: String(Date.now()) },
    formats: { type: 'string' },
    workers: { type: 'string', default: '2' },
    'timeout-ms': { type: 'string', default: '5000' },
    findings: { type: 'string', default: join(here, 'results', 'fuzz-findings') },
    nice: { type: 'string', default: '10' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(
    `node bench/fuzz.mjs [--minutes N] [--seed S] [--formats ${FORMAT_NAMES.join(',')}] [--workers K]`,
  );
  process.exit(0);
}
const minutes = Number(values.minutes);
const findings = resolve(values.findings);
const formats = values.formats ? values.formats.split(',').map((f) => f.trim()) : undefined;
console.log(
  `fuzzing ${formats ? formats.join(', ') : `all ${FORMAT_NAMES.length} formats`} for ${minutes} min, seed ${values.seed}, ` +
    `${values.workers} child process(es); reproducers go to ${findings}`,
);

let done = 0;
let bad = 0;
const progress = setInterval(() => process.stderr.write(`  ${done} inputs, ${bad} bad\n`), 30_000);
const report = await runCampaign({
  minutes,
  seed: values.seed,
  formats,
  workers: Number(values.workers),
  timeoutMs: Number(values['timeout-ms']),
  findingsDir: findings,
  nice: Number(values.nice),
  onHarnessError: (m) => process.stderr.write(`  FUZZER ERROR ${m.split('\n')[0]}\n`),
  onResult: (r) => {
    done += 1;
    if (['raw', 'hang', 'crash', 'side-effect'].includes(r.outcome)) {
      bad += 1;
      const what = r.error
        ? `${r.error.name}: ${r.error.message.split('\n')[0].slice(0, 160)}`
        : (r.why ?? '');
      process.stderr.write(
        `  ${r.outcome} ${r.job.format} #${r.job.index}: ${what} -> ${r.saved ?? '(not saved)'}\n`,
      );
    }
  },
});
clearInterval(progress);
console.log(`\n${formatTable(report.counts)}\n`);
console.log(
  `${report.inputs} inputs in ${report.seconds.toFixed(0)} s (${(report.inputs / report.seconds).toFixed(0)}/s), ` +
    `seed ${values.seed}; ${report.bad.length} raw error(s), hang(s), crash(es) or side effect(s)` +
    (report.bad.length > 0 ? `; reproducers in ${findings}` : ''),
);
if (report.harnessErrors.length > 0) {
  console.log(
    `${report.harnessErrors.length} input(s) failed inside the fuzzer itself:\n${report.harnessErrors.join('\n')}`,
  );
}
process.exit(report.bad.length === 0 && report.harnessErrors.length === 0 ? 0 : 1);
