import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'complexity',
    include: ['src/**/*.test.ts'],
  },
});
