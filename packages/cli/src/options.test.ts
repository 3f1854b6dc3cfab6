import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { numberIn } from './options.js';

describe('numberIn', () => {
  it.each([
    [
      { integer: true, min: { value: 1, inclusive: true } },
      ['3', '+3'],
      ['0', '1.5', '1e3', ''],
      'a positive integer',
    ],
    [
      { integer: true, min: { value: 0, inclusive: true } },
      ['0', '7'],
      ['-1', 'x'],
      'a non-negative integer',
    ],
    [{ min: { value: 0, inclusive: false } }, ['1e-5', '2'], ['0', '-1', 'Infinity'], 'a positive number'],
    [{ min: { value: 0, inclusive: true } }, ['0', '0.5'], ['-0.1', 'NaN'], 'a non-negative number'],
    [
      { integer: true, min: { value: 1, inclusive: true }, max: { value: 16, inclusive: true } },
      ['1', '16'],
      ['0', '17'],
      'an integer from 1 to 16',
    ],
    [{ max: { value: 1, inclusive: false } }, ['0.99', '-3'], ['1'], 'a number < 1'],
  ])('%j', (bounds, good, bad, expected) => {
    const parse = numberIn(bounds);
    for (const v of good) expect(parse(v)).toBe(Number(v));
    for (const v of bad) {
      expect(() => parse(v)).toThrow(InvalidArgumentError);
      expect(() => parse(v)).toThrow(`expected ${expected}.`);
    }
  });
});
