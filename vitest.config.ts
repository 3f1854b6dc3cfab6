import { defineConfig } from 'vitest/config';
import LongFirstSequencer from './tools/long-first-sequencer.js';

// One run over every workspace (each has its own vitest.config.ts), ending with the plain
// "Tests: N passed, N failed" line that CI reads. Two test files at a time (vitest's default on 2 cores is one):
// much of the suite waits on child processes, servers and file I/O, and the CI learning gate, started first, takes
// minutes on its own.
export default defineConfig({
  test: {
    projects: ['packages/*', 'test', 'fuzz'],
    reporters: ['default', './tools/summary-reporter.ts'],
    maxWorkers: 2,
    sequence: { sequencer: LongFirstSequencer },
  },
});
