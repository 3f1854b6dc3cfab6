/** Test helpers: MAT v5 files built element by element (little-endian), for inputs no writer produces. */

/** A MAT v5 data element (little-endian): tag, then the data padded to 8 bytes. */
export function element(type: number, data: Buffer): Buffer {
  const tag = Buffer.alloc(8);
  tag.writeUInt32LE(type, 0);
  tag.writeUInt32LE(data.length, 4);
  return Buffer.concat([tag, data, Buffer.alloc((8 - (data.length % 8)) % 8)]);
}

export const int32s = (v: number[]): Buffer => Buffer.from(Int32Array.from(v).buffer);
export const uint32s = (v: number[]): Buffer => Buffer.from(Uint32Array.from(v).buffer);

/** A matrix element: class 4 = char, 1 = cell; `real` is the data element (or the cells, for a cell array). */
export function matrix(name: string, cls: number, dims: number[], real: Buffer): Buffer {
  return element(
    14,
    Buffer.concat([
      element(6, uint32s([cls, 0])),
      element(5, int32s(dims)),
      element(1, Buffer.from(name, 'latin1')),
      real,
    ]),
  );
}

export function matFile(...elements: Buffer[]): Buffer {
  const header = Buffer.alloc(128, 0x20);
  header.write('MATLAB 5.0 MAT-file, written by the iqa-bench tests', 0, 'latin1');
  header.writeUInt16LE(0x0100, 124);
  header.write('IM', 126, 'latin1');
  return Buffer.concat([header, ...elements]);
}
