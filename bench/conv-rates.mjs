import * as tf from '@tensorflow/tfjs-core';
import * as vbn from 'vbn';
await vbn.useBackend('native');
const S = +process.argv[2] || 128;
for (const [h, ci, co] of [
  [S, 1, 16],
  [S - 2, 16, 32],
  [S - 4, 32, 64],
]) {
  const x = tf.randomNormal([64, h, h, ci]);
  const w = tf.randomNormal([3, 3, ci, co]);
  const y = tf.conv2d(x, w, 1, 'valid');
  const dy = tf.randomNormal(y.shape);
  const fl = (2 * 64 * (h - 2) * (h - 2) * 9 * ci * co) / 1e9;
  const time = (f) => {
    f().dispose();
    let best = 1e9;
    for (let i = 0; i < 2; i++) {
      const t = performance.now();
      const r = f();
      best = Math.min(best, performance.now() - t);
      r.dispose();
    }
    return best;
  };
  const tf_ = time(() => tf.conv2d(x, w, 1, 'valid'));
  const tw = time(() =>
    tf
      .engine()
      .runKernel(
        'Conv2DBackpropFilter',
        { x, dy },
        { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, ci, co] },
      ),
  );
  const td =
    ci > 1
      ? time(() =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropInput',
              { dy, filter: w },
              { strides: 1, pad: 'valid', dataFormat: 'NHWC', inputShape: x.shape },
            ),
        )
      : NaN;
  console.log(
    `${ci}->${co} @${h}: fwd ${tf_.toFixed(0)}ms ${((fl / tf_) * 1e3).toFixed(0)} GF/s | bwdW ${tw.toFixed(0)}ms ${((fl / tw) * 1e3).toFixed(0)} GF/s | bwdD ${td.toFixed(0)}ms ${((fl / td) * 1e3).toFixed(0)} GF/s`,
  );
  tf.dispose([x, w, y, dy]);
}
