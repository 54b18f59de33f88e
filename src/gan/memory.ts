import type { MemoryNeed } from '../options/memory.js';
import type { GanTrainConfig } from './config.js';

/**
 * A lower bound of what one step of a GAN run allocates, from its options and the image's
 * [H, W, C]: the generator's activations for the batch and the reference latents, the
 * discriminator's for real and generated images, both networks' weights with gradients and two
 * Adam slots, and the images the per-epoch metrics generate.
 */
export function ganNeed(
  c: GanTrainConfig,
  [height, width, channels]: readonly number[],
): MemoryNeed {
  const k2 = c.kernelSize * c.kernelSize;
  const image = height * width * channels;
  const ups = c.generatorFilters.length - 1 + (c.outputStride === 2 ? 1 : 0);
  const h0 = Math.max(1, Math.floor(height / 2 ** ups));
  const w0 = Math.max(1, Math.floor(width / 2 ** ups));
  const gRows = c.batchSize + c.referenceSize;
  let activations = gRows * image;
  let params = c.latentDim * h0 * w0 * c.generatorFilters[0];
  let largest = Math.max(activations, params);
  c.generatorFilters.forEach((f, i) => {
    const a = gRows * h0 * w0 * 4 ** i * f;
    const p = i === 0 ? 0 : k2 * c.generatorFilters[i - 1] * f;
    activations += a;
    params += p;
    largest = Math.max(largest, a, p);
  });
  params += k2 * c.generatorFilters[c.generatorFilters.length - 1] * channels;
  let [h, w, cin] = [height, width, channels];
  for (const f of c.discriminatorFilters) {
    [h, w] = [Math.ceil(h / 2), Math.ceil(w / 2)];
    const a = 2 * c.batchSize * h * w * f;
    const p = k2 * cin * f;
    activations += a;
    params += p;
    largest = Math.max(largest, a, p);
    cin = f;
  }
  const evaluation = c.evalSamples * image;
  largest = Math.max(largest, evaluation);
  return { bytes: 4 * (2 * activations + 4 * params + evaluation), largest };
}
