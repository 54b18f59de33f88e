import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VbnError } from 'vbn';
import { readNpy } from '../../src/data/node/npy.js';
import { tempDir } from '../support/fixtures.js';

/**
 * .npy headers, written here byte by byte from the format's specification (magic, version 1.0,
 * little-endian header length, a Python dict literal padded to 64 bytes), independent of the
 * npyjs writer: the header's shape must account for exactly the values the file holds.
 */
const ITEM = { '<f4': 4, '|u1': 1, '<i4': 4 } as const;
type Descr = keyof typeof ITEM;

function npyFile(descr: Descr, shapeText: string, values: number): string {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  header = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11) + '\n';
  const len = Buffer.alloc(2);
  len.writeUInt16LE(header.length);
  const magic = Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0]);
  const data = Buffer.alloc(values * ITEM[descr]);
  for (let i = 0; i < values; i++) {
    if (descr === '<f4') data.writeFloatLE(i % 200, 4 * i);
    else if (descr === '<i4') data.writeInt32LE(i % 200, 4 * i);
    else data.writeUInt8(i % 200, i);
  }
  const file = join(tempDir(), 'a.npy');
  writeFileSync(file, Buffer.concat([magic, len, Buffer.from(header, 'latin1'), data]));
  return file;
}

const tuple = (shape: number[]) =>
  shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
const shapes = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 });
const descrs = fc.constantFrom<Descr>('<f4', '|u1', '<i4');
const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

describe('.npy header against data (property tests, headers written by hand)', () => {
  it('a header that matches its data reads back its shape and values', () => {
    fc.assert(
      fc.property(shapes, descrs, (shape, descr) => {
        const a = readNpy(npyFile(descr, tuple(shape), count(shape)));
        expect(a.shape).toEqual(shape);
        expect(Array.from(a.data as unknown as ArrayLike<number>).slice(0, 3)).toEqual(
          [0, 1, 2].slice(0, Math.min(3, count(shape))),
        );
      }),
      { numRuns: 60 },
    );
  });

  it('data longer or shorter than the header says is refused, naming both counts', () => {
    fc.assert(
      fc.property(
        shapes,
        descrs,
        fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0),
        (shape, descr, delta) => {
          fc.pre(count(shape) + delta >= 0);
          const file = npyFile(descr, tuple(shape), count(shape) + delta);
          expect(() => readNpy(file)).toThrow(VbnError);
          expect(() => readNpy(file)).toThrow(
            `the header says shape [${shape.join(',')}] (${count(shape)} values) but the file holds ${count(shape) + delta} values`,
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a shape that is not a list of non-negative integers is refused', () => {
    for (const text of ['(-1, 4)', '(2, -2)', '(1.5, 2)']) {
      expect(() => readNpy(npyFile('<f4', text, 4)), text).toThrow(
        /is not a list of non-negative integers|not a readable \.npy file/,
      );
    }
  });
});
