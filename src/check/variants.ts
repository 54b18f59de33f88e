import type { ResolvedNetConfig } from '../model/config.js';
import { compare, flat, type Tolerance } from './compare.js';
import { float64Run, type CheckData, type ParamValues } from './float64.js';

/** What one implementation computed: logits [B, K] and parameter gradients by name. */
interface Computed {
  logits: ArrayLike<number>;
  grads: Record<string, ArrayLike<number>>;
}

const EPSILONS = [1e-3, 1e-4, 1e-6, 1e-8, 0, 1e-2, 1e-1];

/**
 * For an implementation that disagrees with the float64 network: the nearby network it does
 * compute, if any (another epsilon, the other mode, gradients stopped or not at the reference
 * statistics), in words. `data` is channels last, as the float64 network takes it.
 */
export function probeVariants(
  config: ResolvedNetConfig,
  names: readonly string[],
  params: Record<string, ParamValues>,
  data: CheckData,
  mine: Computed,
  tol: Tolerance,
): string | null {
  const logitsMatch = (c: ResolvedNetConfig) =>
    compare(
      'logits',
      { shape: [-1], values: mine.logits },
      { shape: [-1], values: float64Run(c, params, data).logits },
      tol,
    ).ok;
  const e = (x: number) => x.toExponential();
  if (!logitsMatch(config)) {
    for (const epsilon of EPSILONS.filter((x) => x !== config.epsilon)) {
      if (logitsMatch({ ...config, epsilon }))
        return `its logits match the float64 network with epsilon ${e(epsilon)} instead of ${e(config.epsilon)}`;
    }
    const mode = config.mode === 'virtual' ? 'reference' : 'virtual';
    if (logitsMatch({ ...config, mode }))
      return `its logits match the float64 network in mode '${mode}' instead of '${config.mode}'`;
    return null;
  }
  const stop = !config.stopReferenceGradient;
  const f = float64Run({ ...config, stopReferenceGradient: stop }, params, data);
  const logits = compare(
    'logits',
    { shape: [-1], values: mine.logits },
    { shape: [-1], values: f.logits },
    tol,
  );
  const grads = compare(
    'gradients',
    { shape: [-1], values: flat(names, mine.grads) },
    { shape: [-1], values: flat(names, f.grads) },
    tol,
  );
  if (logits.ok && grads.ok) {
    return stop
      ? 'its gradients are those of the float64 network with the gradient stopped at the reference statistics (stopReferenceGradient), which this network does not do'
      : 'its gradients flow through the reference statistics, which this network stops (stopReferenceGradient)';
  }
  return null;
}
