import { describe, expect, it } from 'vitest';
import { PACKAGE_NAME } from './index.js';

describe('smoke', () => {
  it('names itself', () => {
    expect(PACKAGE_NAME).toBe('@iqa-bench/metrics');
  });
});
