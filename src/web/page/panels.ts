import * as tf from '@tensorflow/tfjs-core';
import {
  VbnError,
  useBackend,
  type BackendName,
  type BrowserBackendOptions,
} from '../../browser.js';
import { gather } from '../../data/dataset.js';
import { agreementReport, paramValues } from './agreement.js';
import { drawDigits } from './digits.js';
import { batchIndependence } from './independence.js';
import type { TrainingSession } from './session.js';
import { byId, setText, showAgreement, showIndependence } from './view.js';

/** The page's panels that read a trained session: predictions, batch independence, agreement. */

const AGREEMENT_TOLERANCE = 1e-4;
const PREDICTIONS = 40;

/** Predictions on the first validation digits, wrong ones marked. */
export async function showPredictions(s: TrainingSession): Promise<void> {
  const { indices, predicted } = await s.predict(PREDICTIONS);
  const box = byId('predictions');
  box.replaceChildren();
  let right = 0;
  indices.forEach((k, i) => {
    const truth = s.val.labels[k];
    const fig = document.createElement('figure');
    const canvas = document.createElement('canvas');
    drawDigits(canvas, s.val, [k], 1, 1);
    const name = s.val.classNames;
    const cap = document.createElement('figcaption');
    cap.textContent = predicted[i] === truth ? name[predicted[i]] : `${name[predicted[i]]}✗`;
    if (predicted[i] === truth) right++;
    else fig.className = 'wrong';
    fig.title = `predicted ${name[predicted[i]]}, is ${name[truth]}`;
    fig.append(canvas, cap);
    box.appendChild(fig);
  });
  setText(
    'predictions-summary',
    `${right} of ${indices.length} right; wrong ones are marked in red`,
  );
}

/** The batch-independence panel for the digit the form names (VBN, or batch norm when toggled). */
export async function independence(s: TrainingSession | null): Promise<void> {
  if (!s) throw new VbnError('batch independence: start training first (it needs weights)');
  const index = Number(byId<HTMLInputElement>('digit-index').value);
  const n = s.val.labels.length;
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new VbnError(`validation digit #: expected an integer 0-${n - 1}, got '${index}'`);
  }
  const batchNorm = byId<HTMLInputElement>('bn-toggle').checked;
  const pool = Array.from({ length: Math.min(n, 200) }, (_, i) => i);
  const digit = tf.tensor4d(gather(s.val, [index]), [1, ...s.val.shape]);
  const others = tf.tensor4d(gather(s.val, pool), [pool.length, ...s.val.shape]);
  try {
    const rows = await batchIndependence(s.net, s.params, s.reference, digit, others, {
      strategy: s.settings.strategy,
      batchNorm,
      sizes: [1, 3, 7, 15],
      seed: index,
    });
    showIndependence(rows, batchNorm);
  } finally {
    tf.dispose([digit, others]);
  }
}

/** The agreement panel: cpu and the active backend on the current weights; ends on that backend. */
export async function agreement(
  s: TrainingSession | null,
  backendOptions: BrowserBackendOptions,
): Promise<void> {
  if (!s) throw new VbnError('agreement: start training first (it checks the current weights)');
  const chosen = tf.getBackend() as BackendName;
  setText('agreement-summary', `running on ${chosen === 'cpu' ? 'cpu' : `cpu and ${chosen}`}...`);
  const inputs = Array.from({ length: Math.min(8, s.val.labels.length) }, (_, i) => i);
  const report = await agreementReport({
    net: s.net,
    params: paramValues(s.net, s.params),
    data: {
      reference: { shape: [...s.reference.shape], values: s.reference.dataSync() as Float32Array },
      inputs: { shape: [inputs.length, ...s.val.shape], values: gather(s.val, inputs) },
      labels: Int32Array.from(inputs, (i) => s.val.labels[i]),
    },
    backends: chosen === 'cpu' ? ['cpu'] : ['cpu', chosen],
    switchBackend: (name) => useBackend(name as BackendName, undefined, backendOptions),
    tolerance: AGREEMENT_TOLERANCE,
  }).finally(() => useBackend(chosen, undefined, backendOptions));
  showAgreement(report);
}
