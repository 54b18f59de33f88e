import { VbnError } from '../../errors.js';
import { Random } from '../../util/random.js';
import { countOf, splitValidation, subset, validateDataset, type Dataset } from '../dataset.js';
import { loadImageFolder } from './folder.js';
import { loadMnist, parseClasses } from './mnist.js';
import { loadNpyPair } from './npy.js';
import { resizeImages } from '../resize.js';

export interface DataOptions {
  /** 'mnist', a folder of class folders of PNGs, or 'x.npy,y.npy'. Default 'mnist'. */
  data?: string;
  /** MNIST digits: 'all' or a comma list. Default '3,5'. */
  classes?: string;
  /** Resize every image to this square size. Default: keep the size. */
  imageSize?: number;
  /** Validation share of the data; MNIST uses its own test split when unset. Default 0.2 otherwise. */
  valFraction?: number;
  /** Use at most this many training examples (seeded choice). Default all. */
  limit?: number;
  /** Seed of the split and the limit. Default 0. */
  seed?: number;
}

export interface LoadedData {
  train: Dataset;
  val: Dataset;
  /** A one-line description, e.g. 'mnist digits 3,5: 11552 train, 1902 validation'. */
  description: string;
}

export const DATA_DEFAULTS = { data: 'mnist', classes: '3,5', seed: 0 } as const;

/** Loads and splits the data named by `--data`. Every problem is a VbnError naming the file or flag. */
export function loadData(options: DataOptions): LoadedData {
  const data = options.data ?? DATA_DEFAULTS.data;
  const seed = options.seed ?? DATA_DEFAULTS.seed;
  if (
    options.imageSize !== undefined &&
    !(Number.isInteger(options.imageSize) && options.imageSize > 0)
  ) {
    throw new VbnError(`--image-size must be a positive integer but is ${options.imageSize}`);
  }
  let train: Dataset;
  let val: Dataset;
  let what: string;
  if (data === 'mnist') {
    const classes = parseClasses(options.classes ?? DATA_DEFAULTS.classes);
    const resize = (d: Dataset) =>
      options.imageSize === undefined ? d : resizeDataset(d, options.imageSize);
    const all = resize(loadMnist('train', classes));
    if (options.valFraction === undefined) {
      train = all;
      val = resize(loadMnist('test', classes));
    } else {
      ({ train, val } = splitValidation(all, options.valFraction, seed));
    }
    what = `mnist digits ${classes.join(',')}`;
  } else {
    let all: Dataset;
    if (data.includes(',')) {
      const [x, y, ...rest] = data.split(',');
      if (rest.length > 0 || !x.endsWith('.npy') || !y.endsWith('.npy')) {
        throw new VbnError(`--data ${data}: expected two files 'x.npy,y.npy'`);
      }
      all = validateDataset(loadNpyPair(x, y, options.imageSize), `${x},${y}`);
    } else {
      all = validateDataset(loadImageFolder(data, options.imageSize), data);
    }
    ({ train, val } = splitValidation(all, options.valFraction ?? 0.2, seed));
    what = data;
  }
  if (options.limit !== undefined) {
    if (!(Number.isInteger(options.limit) && options.limit > 0)) {
      throw new VbnError(`--limit must be a positive integer but is ${options.limit}`);
    }
    if (options.limit < countOf(train)) {
      const order = new Random(seed ^ 0x11).shuffle(
        Array.from({ length: countOf(train) }, (_, i) => i),
      );
      train = subset(
        train,
        order.slice(0, options.limit).sort((a, b) => a - b),
      );
    }
  }
  return {
    train,
    val,
    description: `${what}: ${countOf(train)} train, ${countOf(val)} validation, images ${train.shape.join('x')}, ${train.classNames.length} classes`,
  };
}

function resizeDataset(d: Dataset, size: number): Dataset {
  return {
    ...d,
    images: resizeImages(d.images, countOf(d), d.shape, size),
    shape: [size, size, d.shape[2]],
  };
}
