import { Resvg } from '@resvg/resvg-js';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { EpochMetrics } from './train.js';

/** Pixel size of curves.png (the SVG has the same size in CSS pixels). */
export const PLOT_SIZE = { width: 820, height: 300 };

/** Training and validation loss and accuracy against epoch, as a Vega-Lite spec. */
export function curvesSpec(history: readonly EpochMetrics[]): vl.TopLevelSpec {
  const rows = history.flatMap((m) => [
    { epoch: m.epoch, split: 'train', metric: 'loss', value: m.trainLoss },
    { epoch: m.epoch, split: 'validation', metric: 'loss', value: m.valLoss },
    { epoch: m.epoch, split: 'train', metric: 'accuracy', value: m.trainAccuracy },
    { epoch: m.epoch, split: 'validation', metric: 'accuracy', value: m.valAccuracy },
  ]);
  const panel = (metric: string) => ({
    title: metric,
    width: 330,
    height: 220,
    transform: [{ filter: `datum.metric === '${metric}'` }],
    mark: { type: 'line' as const, point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative' as const, axis: { tickMinStep: 1 } },
      y: {
        field: 'value',
        type: 'quantitative' as const,
        title: metric,
        scale: { zero: false },
      },
      color: { field: 'split', type: 'nominal' as const },
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    background: 'white',
    data: { values: rows },
    hconcat: [panel('loss'), panel('accuracy')],
  } as vl.TopLevelSpec;
}

/** Renders the curves to SVG (vega, headless) and PNG (resvg). No browser involved. */
export async function renderCurves(
  history: readonly EpochMetrics[],
): Promise<{ svg: string; png: Buffer }> {
  return renderSpec(curvesSpec(history));
}

/** Renders any Vega-Lite spec to SVG and PNG. */
export async function renderSpec(vlSpec: vl.TopLevelSpec): Promise<{ svg: string; png: Buffer }> {
  const spec = vl.compile(vlSpec).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, {
    fitTo: { mode: 'width', value: PLOT_SIZE.width },
    background: 'white',
    font: { loadSystemFonts: true },
  })
    .render()
    .asPng();
  return { svg, png };
}

/** Rewrites curves.svg and curves.png in `dir` atomically (temp file, then rename). */
export async function writeCurves(dir: string, history: readonly EpochMetrics[]): Promise<void> {
  await writeRendered(dir, await renderCurves(history));
}

/** Writes curves.svg and curves.png in `dir` atomically (temp file, then rename). */
export async function writeRendered(
  dir: string,
  { svg, png }: { svg: string; png: Buffer },
): Promise<void> {
  for (const [name, data] of [
    ['curves.svg', svg],
    ['curves.png', png],
  ] as const) {
    const tmp = join(dir, `.${name}.tmp-${process.pid}`);
    writeFileSync(tmp, data);
    renameSync(tmp, join(dir, name));
  }
}
