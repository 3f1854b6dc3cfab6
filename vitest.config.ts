import { defineConfig } from 'vitest/config';

// One run over every workspace (each has its own vitest.config.ts), ending with the plain
// "Tests: N passed, N failed" line that CI reads.
export default defineConfig({
  test: {
    projects: ['packages/*', 'test', 'fuzz'],
    reporters: ['default', './tools/summary-reporter.ts'],
  },
});
