import * as tf from '@tensorflow/tfjs-core';
import { Command } from 'commander';
import { useBackend, type BackendChoice } from '../backend/node/select.js';
import { countOf, gather } from '../data/dataset.js';
import { loadMnist } from '../data/node/mnist.js';
import { VbnError } from '../errors.js';
import {
  batchIndependence,
  featureGaussian,
  generateImages,
  latents,
  sampleMetrics,
} from '../gan/evaluate.js';
import { readClassifier } from '../gan/node/classifier-files.js';
import { disposeGan, loadGan } from '../gan/node/load-gan.js';
import { Random } from '../util/random.js';
import { printJson, type CliContext } from './context.js';
import { runtimeFlags } from './flags.js';
import { integer } from './parse.js';

/** Latent stream of gan-eval's samples (distinct from the training streams). */
const EVAL_STREAM = 7;

export function ganEvalCommand(ctx: CliContext): Command {
  const cmd = new Command('gan-eval').description(
    'classifier score, Fréchet distance, class coverage and batch independence of a GAN checkpoint, with the same numbers for real images',
  );
  cmd
    .requiredOption('--checkpoint <dir>', 'a GAN checkpoint folder, or a run folder (its last)')
    .option(
      '--samples <n>',
      'generated (and real) images compared (default 5000)',
      integer(2),
      5000,
    )
    .option('--seed <n>', 'seed of the generated samples (default 0)', integer(0), 0);
  runtimeFlags(cmd);
  cmd.action(
    async (flags: {
      checkpoint: string;
      samples: number;
      seed: number;
      backend: BackendChoice;
      threads?: number;
      json?: boolean;
    }) => {
      const digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
      const test = loadMnist('test', digits);
      const n = flags.samples;
      if (n > countOf(test)) {
        throw new VbnError(
          `--samples ${n}: at most ${countOf(test)} (the MNIST test images the Fréchet distance compares against)`,
        );
      }
      const gan = loadGan(flags.checkpoint);
      const backend = await useBackend(flags.backend, undefined, { threads: flags.threads });
      const classifier = readClassifier();
      const t0 = performance.now();
      try {
        const train = loadMnist('train', digits);
        const trainIdx = new Random(flags.seed ^ 0x3a1).shuffle(
          Array.from({ length: countOf(train) }, (_, i) => i),
        );
        const realTrain = gather(train, trainIdx.slice(0, n));
        const testGaussian = featureGaussian(classifier, test.images, n);
        const real = sampleMetrics(classifier, realTrain, n, testGaussian);
        const z = latents(
          flags.seed,
          EVAL_STREAM,
          n,
          gan.generator.config.latentDim,
          gan.generator.config.codes,
        );
        const images = generateImages(gan.generator, gan.gParams, gan.referenceZ, z);
        z.dispose();
        const fake = sampleMetrics(classifier, images, n, testGaussian);
        const independence = batchIndependence(
          gan.generator,
          gan.gParams,
          gan.referenceZ,
          flags.seed,
        );
        const realScore = real.classifierScore;
        const result = {
          classifierScore: fake.classifierScore,
          realClassifierScore: realScore,
          frechetDistance: fake.frechetDistance,
          realFrechetDistance: real.frechetDistance,
          classHistogram: fake.classHistogram,
          classesCovered: fake.classesCovered,
          batchIndependence: independence,
          samples: n,
          norm: gan.meta.config.norm,
          checkpoint: gan.dir,
          backend,
          seconds: (performance.now() - t0) / 1000,
        };
        // --json: the metrics as the one line of stdout (for jq and scripts); else one line for people.
        if (flags.json) printJson(ctx, result);
        else
          ctx.out(
            `${gan.dir}: classifier score ${result.classifierScore.toFixed(3)} (real ${realScore.toFixed(3)}), Fréchet distance ${result.frechetDistance.toFixed(3)} (real ${result.realFrechetDistance.toFixed(3)}), ${result.classesCovered}/10 classes covered, batch independence ${independence.toExponential(2)}, N=${n} (${backend}, ${result.seconds.toFixed(1)} s)`,
          );
      } finally {
        disposeGan(gan);
        tf.dispose(Object.values(classifier));
      }
    },
  );
  return cmd;
}
