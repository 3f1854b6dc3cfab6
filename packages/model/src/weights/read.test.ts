import { existsSync, readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diffExpected, fixture, readExpected } from './__tests__/fixtures.js';
import type { CraftTensor } from './__tests__/torch-craft.js';
import { floatStorage, torchLegacy, torchZip } from './__tests__/torch-craft.js';
import { ModelFileError } from './errors.js';
import { parseWeights, readWeights } from './read.js';

describe('torch.save readers (fixtures written by PyTorch 1.13)', () => {
  const basic = readExpected('basic');
  it.each(['basic.zip.pth', 'basic.p4.zip.pth', 'basic.legacy.pth'])(
    '%s: every tensor equals what PyTorch reads',
    async (name) => {
      const w = await readWeights(fixture(name));
      expect(w.format).toBe(name.includes('legacy') ? 'torch-legacy' : 'torch-zip');
      expect(w.wrapper).toBeNull();
      expect(diffExpected(w.stateDict, basic)).toEqual([]);
    },
  );

  it('handles views sharing one storage (transposed, offset, strided, expanded)', async () => {
    const sd = (await readWeights(fixture('basic.zip.pth'))).stateDict;
    // base = arange(12) * 0.5 - 2 ; transposed = base.view(3,4).t()
    expect([...(sd.get('shared.transposed')?.data as Float32Array)]).toEqual([
      -2, 0, 2, -1.5, 0.5, 2.5, -1, 1, 3, -0.5, 1.5, 3.5,
    ]);
    expect([...(sd.get('shared.slice')?.data as Float32Array)]).toEqual([0, 0.5, 1, 1.5]);
    expect([...(sd.get('shared.strided')?.data as Float32Array)]).toEqual([-1.5, 0, 1.5, 3]);
    expect([...(sd.get('expanded')?.data as Float32Array)]).toEqual([1.5, -2, 3.25, 1.5, -2, 3.25]);
    // copies, not views of each other
    (sd.get('shared.slice')?.data as Float32Array)[0] = 99;
    expect((sd.get('shared.transposed')?.data as Float32Array)[1]).toBe(0);
  });

  it('reads int64 BatchNorm counters as int64', async () => {
    const t = (await readWeights(fixture('basic.legacy.pth'))).stateDict.get('bn.num_batches_tracked');
    expect(t?.dtype).toBe('int64');
    expect(t?.shape).toEqual([]);
    expect(t?.data[0]).toBe(12345n);
  });

  const small = readExpected('small');
  it.each([
    ['wrap-model_hyper.pth', 'model_hyper'],
    ['wrap-model.pth', 'model'],
    ['wrap-model_state_dict.pth', 'model_state_dict'],
    ['wrap-params.pth', 'params'],
    ['small.legacy.pth', null],
  ])('%s: unwraps the state dict (wrapper %s)', async (name, wrapper) => {
    const w = await readWeights(fixture(name));
    expect(w.wrapper).toBe(wrapper);
    expect(diffExpected(w.stateDict, small)).toEqual([]);
  });

  it('accepts every allow-listed rebuild function (from_type_v2, v1, parameter, parameter_with_state)', async () => {
    const w = await readWeights(fixture('crafted-rebuild.pth'));
    expect(diffExpected(w.stateDict, readExpected('crafted-rebuild'))).toEqual([]);
  });

  it('names the top-level keys when the file holds no state dict', async () => {
    await expect(readWeights(fixture('no-state-dict.pth'))).rejects.toThrow(
      /no-state-dict\.pth: no state dict found.*\{epoch: int, lr: float\}/,
    );
  });

  it('ignores the storage location (cuda:0 in every fixture)', () => {
    const bytes = readFileSync(fixture('crafted-ok.pth'));
    // Storage locations (cuda:0 in the PyTorch-written fixtures) are ignored: the tensor reads as plain data.
    const { stateDict } = parseWeights(bytes, 'crafted-ok.pth');
    const w = stateDict.get('w');
    expect(w?.dtype).toBe('float32');
    expect(w?.shape).toEqual([2, 2]);
    expect(Array.from(w?.data as Float32Array)).toEqual([1, 2, 3, 4]);
    expect(readFileSync(fixture('basic.zip.pth')).includes(Buffer.from('cuda:0'))).toBe(true);
  });
});

describe('malicious and broken files are refused without side effects', () => {
  const markers = ['global', 'stack-global', 'nested', 'eval', 'traversal'].map(
    (m) => `/tmp/iqa-bench-pwned-${m}`,
  );
  // Protocol-2 pickles name Python 3 modules by their Python 2 names (builtins -> __builtin__, subprocess -> commands).
  const cases: [string, RegExp][] = [
    [
      'evil-global.pkl',
      /evil-global\.pkl: refusing to load: the pickle refers to the Python global 'posix\.system', which is not allowed/,
    ],
    ['evil-global.pth', /evil-global\.pth: refusing to load: .*'posix\.system'/],
    ['evil-stack-global.pth', /evil-stack-global\.pth: refusing to load: .*'posix\.system'/],
    ['evil-eval.pkl', /evil-eval\.pkl: refusing to load: .*'__builtin__\.eval'/],
    ['evil-nested.pth', /evil-nested\.pth: refusing to load: .*'commands\.Popen'/],
    ['evil-load-from-bytes.pth', /refusing to load: .*'torch\.storage\._load_from_bytes'/],
    [
      'evil-reduce-storage.pth',
      /evil-reduce-storage\.pth: pickle at byte \d+: REDUCE on 'torch\.FloatStorage', which may be referenced but not called/,
    ],
    [
      'view-out-of-range.pth',
      /view \(offset 1, size \[2,2\], stride \[2,1\]\) reaches element 4 of storage '0' which has 4 elements/,
    ],
    ['huge-storage.pth', /huge-storage\.pth: storage '0' has 16 bytes, expected 4000000000000000/],
    ['short-storage.pth', /short-storage\.pth: storage '0' has 12 bytes, expected 16/],
    ['truncated.zip.pth', /truncated\.zip\.pth: not a readable zip archive/],
    [
      'truncated.legacy.pth',
      /truncated\.legacy\.pth: truncated: storage '\d+' (header is missing|needs \d+ bytes, \d+ left)/,
    ],
    [
      'traversal.pth',
      /traversal\.pth: zip entry name '\.\.\/\.\.\/iqa-bench-pwned-traversal' escapes the archive/,
    ],
    [
      'huge-declared.pth',
      /huge-declared\.pth: zip entry 'huge\/data\.pkl' declares 4294967280 bytes, over the limit of 1048576/,
    ],
    [
      'truncated.safetensors',
      /truncated\.safetensors: invalid safetensors file: tensor data covers 210 bytes but the file has 207 after the header/,
    ],
    [
      'huge-header.safetensors',
      /huge-header\.safetensors: invalid safetensors file: header length 4611686018427387904 exceeds the limit/,
    ],
    [
      'overlap.safetensors',
      /overlap\.safetensors: invalid safetensors file: tensor 'b' starts at 4, expected 8 \(gap or overlap\)/,
    ],
  ];
  it.each(cases)('%s', async (name, message) => {
    for (const m of markers) rmSync(m, { force: true });
    await expect(readWeights(fixture(name), { maxBytes: 1 << 20 })).rejects.toThrow(message);
    for (const m of markers) expect(existsSync(m)).toBe(false);
  });

  it('refuses a file over the size bound before reading it', async () => {
    await expect(readWeights(fixture('basic.zip.pth'), { maxBytes: 1000 })).rejects.toThrow(
      /basic\.zip\.pth: file is 4\d{3} bytes, expected at most 1000/,
    );
  });

  it('reports a missing file as its own error, naming the file', async () => {
    const err: unknown = await readWeights('/nonexistent-dir/x.pth').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect(err).toMatchObject({ file: '/nonexistent-dir/x.pth', cause: { code: 'ENOENT' } });
    expect((err as Error).message).toMatch(/^\/nonexistent-dir\/x\.pth: no such file or folder/);
  });

  it('refuses unknown formats with the file name', () => {
    expect(() => parseWeights(new TextEncoder().encode('hello world'), 'x.bin')).toThrow(
      /x\.bin: unknown weights format/,
    );
  });
});

describe('tensor views are bounded before anything is allocated (mutation-fuzzer size bombs)', () => {
  const formats = [
    ['zip', torchZip],
    ['legacy', torchLegacy],
  ] as const;
  const one = floatStorage([1.5]);
  const view = (size: (number | bigint)[], stride: number[]): CraftTensor => ({
    storage: one,
    offset: 0,
    size,
    stride,
  });

  /** Runs `parse`, returning its error, the time it took and how much ArrayBuffer memory grew meanwhile. */
  function refused(parse: () => unknown): { err: unknown; ms: number; grewBytes: number } {
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    let err: unknown = null;
    try {
      parse();
    } catch (e) {
      err = e;
    }
    return { err, ms: performance.now() - t0, grewBytes: process.memoryUsage().arrayBuffers - before };
  }

  // Before the fix: 1e9 took 15 s and 4 GB, then "success"; 2^52 elements threw RangeError: Invalid typed array
  // length; 2^31 elements RangeError: Array buffer allocation failed.
  it.each(
    formats.flatMap(([format, write]) =>
      (
        [
          [[1e9], [0], '1000000000 elements, 4000000000 bytes'],
          [[2 ** 26, 2 ** 26], [0, 0], '4503599627370496 elements, 18014398509481984 bytes'],
          [[2 ** 31], [0], '2147483648 elements, 8589934592 bytes'],
          [[2 ** 40, 2 ** 40, 2 ** 40], [0, 0, 0], `${2n ** 120n} elements, ${2n ** 122n} bytes`],
        ] as const
      ).map(([size, stride, what]) => [format, size, stride, what, write] as const),
    ),
  )('%s: one float viewed as size %j, stride %j is refused at once', (format, size, stride, what, write) => {
    const bytes = write({ w: view([...size], [...stride]) });
    expect(bytes.length).toBeLessThan(700);
    const name = `bomb.${format}.pth`;
    const { err, ms, grewBytes } = refused(() => parseWeights(bytes, name));
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as ModelFileError).file).toBe(name);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^bomb\\.${format}\\.pth: pickle at byte \\d+: _rebuild_tensor_v2: view \\(offset 0, size \\[${size.join(',')}\\], ` +
          `stride \\[${stride.join(',')}\\]\\) of storage '0' \\(1 x float32\\) describes ${what} once copied, over the ` +
          `limit of 1048576 bytes \\(maxExpansion = 4 times the 4 bytes of storage '0'\\); refusing to allocate it`,
      ),
    );
    expect(ms).toBeLessThan(500);
    expect(grewBytes).toBeLessThan(16 * 2 ** 20);
  });

  it.each(formats)(
    '%s: many small views of one float are refused together, naming the tensor over the budget',
    (format, write) => {
      // Eight views of 2^17 floats (512 KiB each): each fits the 1 MiB floor, all together do not.
      const sd = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, view([2 ** 17], [0])]));
      const bytes = write(sd);
      const { err, ms, grewBytes } = refused(() => parseWeights(bytes, 'many.pth'));
      expect(err).toBeInstanceOf(ModelFileError);
      expect(err).toMatchObject({ file: 'many.pth', field: "tensor 'k2'", limit: 'maxExpansion' });
      expect((err as Error).message).toMatch(
        /^many\.pth: tensor 'k2': with the tensors before it, the state dict describes 1572864 bytes once copied, over the limit of 1048576 bytes/,
      );
      expect(ms).toBeLessThan(500);
      expect(grewBytes).toBeLessThan(16 * 2 ** 20);
      // A trusted file reads with a raised limit: every element is the one stored float.
      const { stateDict } = parseWeights(bytes, 'many.pth', { maxExpansion: 2 ** 20 });
      expect([...stateDict.keys()]).toEqual(Object.keys(sd));
      const k7 = stateDict.get('k7')?.data as Float32Array;
      expect(k7.length).toBe(2 ** 17);
      expect(k7.every((v) => v === 1.5)).toBe(true);
    },
  );

  it.each(formats)('%s: maxTensorBytes bounds a plain contiguous tensor too', (format, write) => {
    const s = floatStorage(Array.from({ length: 300 }, (_, i) => i));
    const bytes = write({ w: { storage: s, offset: 0, size: [300], stride: [1] } });
    expect(() => parseWeights(bytes, 'big.pth', { maxTensorBytes: 1000 })).toThrow(
      /big\.pth: pickle at byte \d+: _rebuild_tensor_v2: view \(offset 0, size \[300\], stride \[1\]\) of storage '0' \(300 x float32\) describes 300 elements, 1200 bytes once copied, over the limit of 1000 bytes \(maxTensorBytes = 1000\)/,
    );
    const w = parseWeights(bytes, 'big.pth', { maxTensorBytes: 1200 }).stateDict.get('w');
    expect(Array.from(w?.data as Float32Array)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });
});
