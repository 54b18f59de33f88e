import type * as vl from 'vega-lite';
import { renderSpec, writeRendered } from '../../train/node/plot.js';
import type { GanRunState } from './run-state.js';

/** D and G losses per step (moving average over 50 steps) and the metrics per epoch. */
export function ganCurvesSpec(state: GanRunState): vl.TopLevelSpec {
  const losses = state.dLosses.flatMap((d, i) => [
    { step: i + 1, network: 'discriminator', loss: d },
    { step: i + 1, network: 'generator', loss: state.gLosses[i] },
  ]);
  const metrics = state.history.flatMap((m) => [
    { epoch: m.epoch, metric: 'classifier score', value: m.classifierScore },
    { epoch: m.epoch, metric: 'Fréchet distance', value: m.frechetDistance },
  ]);
  const metricPanel = (metric: string) => ({
    title: metric,
    width: 200,
    height: 200,
    data: { values: metrics },
    transform: [{ filter: `datum.metric === '${metric}'` }],
    mark: { type: 'line' as const, point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative' as const, axis: { tickMinStep: 1 } },
      y: { field: 'value', type: 'quantitative' as const, title: metric, scale: { zero: false } },
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    background: 'white',
    hconcat: [
      {
        title: 'losses (moving average, 50 steps)',
        width: 300,
        height: 200,
        data: { values: losses },
        transform: [
          {
            window: [{ op: 'mean', field: 'loss', as: 'smoothed' }],
            frame: [-49, 0],
            groupby: ['network'],
            sort: [{ field: 'step' }],
          },
        ],
        mark: 'line',
        encoding: {
          x: { field: 'step', type: 'quantitative' },
          y: { field: 'smoothed', type: 'quantitative', title: 'loss' },
          color: { field: 'network', type: 'nominal' },
        },
      },
      metricPanel('classifier score'),
      metricPanel('Fréchet distance'),
    ],
  } as vl.TopLevelSpec;
}

/** Rewrites curves.svg / curves.png of a GAN run. */
export async function writeGanCurves(dir: string, state: GanRunState): Promise<void> {
  await writeRendered(dir, await renderSpec(ganCurvesSpec(state)));
}
