import { DatasetError } from '@iqa-bench/data';
import { ModelFileError } from '@iqa-bench/model';
import { describe, expect, it } from 'vitest';
import { CliError, describeError, errorJson, ExitCode, inCliTerms, oneLineReason } from './errors.js';

describe('messages in the command’s terms', () => {
  it('names flags and subcommands instead of the packages’ options and functions', () => {
    expect(
      inCliTerms(
        'a.jpg: image is 40000x40000 = 1600000000 pixels; expected at most 100000000 pixels (option maxPixels; a decompression bomb or a wrong file?)',
      ),
    ).toBe(
      'a.jpg: image is 40000x40000 = 1600000000 pixels; expected at most 100000000 pixels (raise it with --max-pixels; a decompression bomb or a wrong file?)',
    );
    expect(
      inCliTerms(
        "Backend 'tensorflow' is not available: tensorflow: not installed. Use 'auto' or { fallback: true } to fall back to wasm/cpu.",
      ),
    ).toBe(
      "Backend 'tensorflow' is not available: tensorflow: not installed. Use --backend auto to fall back to wasm or cpu.",
    );
    expect(inCliTerms('expected one of: (none: use randomSplit)')).toBe(
      "expected one of: (none: write a split with 'iqa-bench datasets split')",
    );
    expect(
      inCliTerms(
        'm.pkl: the model would have 1.200e+9 parameters, over the limit maxParams = 1.000e+9; if the file is trusted, raise the limit (option limits.maxParams)',
      ),
    ).toBe(
      'm.pkl: the model would have 1.200e+9 parameters, over the limit --max-params = 1.000e+9; if the file is trusted, raise the limit (--max-params)',
    );
    expect(inCliTerms('(raise ReadLimits.maxExpansion / maxTensorBytes only for a trusted file)')).toBe(
      '(raise --max-expansion / --max-tensor-bytes only for a trusted file)',
    );
    expect(inCliTerms('meta.csv: 9 bytes; expected at most 8 bytes (option maxMetadataBytes)')).toBe(
      'meta.csv: 9 bytes; expected at most 8 bytes',
    );
  });

  it('prints floating-point noise rounded', () => {
    expect(
      inCliTerms(
        '(split options), "ratios": ratios {"train":0.7,"test":0.2} sum to 0.8999999999999999; expected …',
      ),
    ).toBe('(split options), "ratios": ratios {"train":0.7,"test":0.2} sum to 0.9; expected …');
    // Rounding keeps what differs: 1.0000001 is not 1.
    expect(inCliTerms('sum to 1.0000000999999998 and 0.30000000000000004')).toBe('sum to 1.0000001 and 0.3');
  });

  it("turns libvips' repeated multi-line report of a corrupt JPEG into one line naming the file", () => {
    const why =
      'VipsJpeg: Corrupt JPEG data: 69 extraneous bytes before marker 0xdb\n'.repeat(4) +
      'VipsJpeg: Quantization table 0x00 was not defined';
    const err = new DatasetError({
      code: 'corrupt-image',
      file: '/data/a.jpg',
      message: `cannot decode the image (${why})`,
      expected: 'a readable JPEG, PNG, BMP or TIFF file',
    });
    expect(describeError(err)).toBe(
      '/data/a.jpg: cannot decode the image (VipsJpeg: Corrupt JPEG data: 69 extraneous bytes before marker 0xdb; Quantization table 0x00 was not defined)',
    );
    expect(oneLineReason('a\nb\na')).toBe('a; b');
    expect(oneLineReason('just one')).toBe('just one');
  });
});

describe('errorJson', () => {
  it('carries the code, file and flag of the error', () => {
    const ds = new DatasetError({
      code: 'missing-image',
      file: '/d/meta.csv',
      row: 3,
      field: 'image',
      message: 'image "x.png" not found',
      expected: 'an existing image file',
    });
    const wrapped = new CliError('meta.csv, row 3: image "x.png" not found', ExitCode.badInput, {
      cause: ds,
    });
    expect(errorJson(wrapped, wrapped.message, 2)).toEqual({
      schema: 'iqa-bench/error@1',
      error: {
        code: 'missing-image',
        message: 'meta.csv, row 3: image "x.png" not found',
        exitCode: 2,
        file: '/d/meta.csv',
        field: 'image',
      },
    });
    const own = new CliError('--checkpoint m.pkl: no such file', 2, { flag: '--checkpoint', file: 'm.pkl' });
    expect(errorJson(own, own.message, 2).error).toEqual({
      code: 'bad-input',
      message: '--checkpoint m.pkl: no such file',
      exitCode: 2,
      file: 'm.pkl',
      flag: '--checkpoint',
    });
    const limit = new ModelFileError('m.pkl: too big', { file: 'm.pkl', limit: 'maxModelBytes' });
    expect(errorJson(limit, 'm.pkl: too big', 2).error).toMatchObject({
      code: 'model-file',
      file: 'm.pkl',
      flag: '--max-model-bytes',
    });
    const sys = Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), {
      code: 'ENOENT',
      path: '/x',
    });
    expect(errorJson(sys, describeError(sys), 2).error).toEqual({
      code: 'ENOENT',
      message: '/x: no such file or directory',
      exitCode: 2,
      file: '/x',
    });
    expect(errorJson(new Error('x'), "option '--patches <n>' argument '0' is invalid", 2).error.flag).toBe(
      '--patches',
    );
  });
});
