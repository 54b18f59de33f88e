import * as tf from '@tensorflow/tfjs-core';
// The package's browser entry: gradients, the layer class, backend choice.
import { BROWSER_BACKENDS, VbnError, useBackend } from '../../browser.js';
import { drawChart, smooth } from './chart.js';
import { drawDigits } from './digits.js';
import { mnistLoader, parseMnist } from './mnist.js';
import { TrainingSession, type StepRecord } from './session.js';
import { PAGE_DEFAULTS, parseSettings, type PageSettings } from './settings.js';
import { agreement, independence, showPredictions } from './panels.js';
import { byId, setText } from './view.js';

/** The page: settings form, training loop, live curves and the three panels. */

const BACKEND_OPTIONS = { wasmPaths: new URL('./', location.href).href };
const loadMnist = mnistLoader();

let session: TrainingSession | null = null;
let running: Promise<void> | null = null;
let stopRequested = false;
let records: StepRecord[] = [];
let validation: { step: number; loss: number; accuracy: number }[] = [];

function showError(e: unknown): void {
  if (e instanceof VbnError) {
    setText('error', e.message); // a setting or input the user can fix
  } else {
    setText('error', `internal error: ${e instanceof Error ? e.message : String(e)}`);
    console.error(e);
  }
}

/** Runs a button's action; any error is shown in the page, never swallowed. */
function guarded(action: () => Promise<void>): () => void {
  return () => {
    setText('error', '');
    action().catch(showError);
  };
}

const FIELDS = ['filters', 'batchSize', 'referenceSize', 'lr', 'trainImages', 'valImages', 'seed'];

function initForm(): void {
  const d = PAGE_DEFAULTS;
  const values: Record<string, string> = {
    filters: d.filters.join(','),
    batchSize: String(d.batchSize),
    referenceSize: String(d.referenceSize),
    lr: String(d.lr),
    trainImages: String(d.trainImages),
    valImages: String(d.valImages),
    seed: String(d.seed),
  };
  for (const f of FIELDS) byId<HTMLInputElement>(f).value = values[f];
  const digits = byId('digits');
  for (let k = 0; k <= 9; k++) {
    const label = document.createElement('label');
    label.innerHTML = `<input type="checkbox" id="digit-${k}" ${(d.classes as readonly number[]).includes(k) ? 'checked' : ''}/>${k}`;
    digits.appendChild(label);
  }
}

function readSettings(): PageSettings {
  const form: Record<string, string> = {};
  for (const f of [...FIELDS, 'backend', 'strategy', 'mode']) {
    form[f] = byId<HTMLInputElement | HTMLSelectElement>(f).value;
  }
  const digits = [...Array(10).keys()].filter((k) => byId<HTMLInputElement>(`digit-${k}`).checked);
  return parseSettings(form, digits);
}

/** The WebGL renderer's name, e.g. 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device ...))'. */
function webglRenderer(): string {
  const gl = document.createElement('canvas').getContext('webgl2');
  const info = gl?.getExtension('WEBGL_debug_renderer_info');
  return gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
}

/**
 * Fills the backend picker with the backends that initialize here and says why others do not.
 * Preselects the first (fastest on a real GPU), except on a software GPU (SwiftShader), where
 * wasm is 9-100x faster than webgl and webgpu (docs/performance.md).
 */
async function initBackends(): Promise<void> {
  const select = byId<HTMLSelectElement>('backend');
  const skipped: string[] = [];
  for (const name of BROWSER_BACKENDS) {
    try {
      await useBackend(name, undefined, BACKEND_OPTIONS);
      select.add(new Option(name, name));
    } catch (e) {
      skipped.push(e instanceof Error ? e.message : String(e));
    }
  }
  if (!select.options.length) {
    throw new VbnError('no TensorFlow.js backend initializes in this browser');
  }
  const software = /SwiftShader|llvmpipe|software/i.test(webglRenderer());
  const names = [...select.options].map((o) => o.value);
  if (software && names.includes('wasm')) select.value = 'wasm';
  const notes = [
    ...(software ? ['the GPU backends run on a software GPU here, so wasm is preselected'] : []),
    ...(skipped.length ? [`unavailable: ${skipped.join('; ')}`] : []),
  ];
  setText('status', notes.length ? `ready; ${notes.join('; ')}` : 'ready');
}

function drawCurves(): void {
  const loss: [number, number][] = records.map((r) => [r.step, r.loss]);
  const acc: [number, number][] = records.map((r) => [r.step, r.accuracy]);
  drawChart(byId('loss-chart'), 'loss', [
    { label: 'per step', color: '#9bc', points: loss },
    { label: 'smoothed', color: '#036', points: smooth(loss) },
    {
      label: 'validation',
      color: '#d60',
      points: validation.map((v) => [v.step, v.loss]),
      dots: true,
    },
  ]);
  drawChart(
    byId('acc-chart'),
    'accuracy',
    [
      { label: 'per step', color: '#bcb', points: acc },
      { label: 'smoothed', color: '#060', points: smooth(acc) },
      {
        label: 'validation',
        color: '#d60',
        points: validation.map((v) => [v.step, v.accuracy]),
        dots: true,
      },
    ],
    [0, 1],
  );
}

function showStats(speed: number): void {
  const last = records[records.length - 1];
  if (!last || !session) return;
  const sm = smooth(records.map((r) => [r.step, r.loss]));
  setText('stat-step', String(last.step));
  setText('stat-epoch', String(last.epoch + 1));
  setText('stat-loss', last.loss.toFixed(4));
  setText('stat-smooth', sm[sm.length - 1][1].toFixed(4));
  setText('stat-acc', `${(100 * last.accuracy).toFixed(1)}%`);
  const v = validation[validation.length - 1];
  if (v) setText('stat-val', `${(100 * v.accuracy).toFixed(2)}% (loss ${v.loss.toFixed(4)})`);
  if (speed > 0) setText('stat-speed', speed.toFixed(2));
  setText('stat-backend', tf.getBackend());
}

async function newSession(settings: PageSettings): Promise<TrainingSession> {
  setText('status', 'loading MNIST...');
  const [trainBytes, valBytes] = await Promise.all([loadMnist('train'), loadMnist('t10k')]);
  const train = parseMnist(trainBytes, settings.classes, settings.trainImages, 'data/train');
  const val = parseMnist(valBytes, settings.classes, settings.valImages, 'data/t10k');
  const s = new TrainingSession(settings, train, val);
  drawDigits(byId('reference-grid'), train, s.referenceIndices, 16);
  return s;
}

async function trainLoop(s: TrainingSession): Promise<void> {
  let mark = { time: performance.now(), step: s.steps };
  let speed = 0;
  while (!stopRequested) {
    records.push(await s.step());
    if (s.atEpochEnd) {
      const v = await s.validate();
      validation.push({ step: s.steps, loss: v.loss, accuracy: v.accuracy });
      await showPredictions(s);
    }
    const now = performance.now();
    if (now - mark.time > 500) {
      speed = ((s.steps - mark.step) * 1000) / (now - mark.time);
      mark = { time: now, step: s.steps };
      drawCurves();
      showStats(speed);
    }
    await new Promise((r) => setTimeout(r, 0)); // let clicks and painting in between steps
  }
  drawCurves();
  showStats(speed);
  await showPredictions(s);
}

function setRunning(on: boolean): void {
  byId<HTMLButtonElement>('start').disabled = on;
  byId<HTMLButtonElement>('pause').disabled = !on;
  for (const id of ['independence-run', 'agreement-run']) {
    byId<HTMLButtonElement>(id).disabled = on || session === null;
  }
}

async function start(): Promise<void> {
  const settings = readSettings();
  const backend = await useBackend(settings.backend, undefined, BACKEND_OPTIONS);
  let note = '';
  if (session) {
    session.settings.strategy = settings.strategy; // with the backend, the settings that change live
    const fixed = (p: PageSettings) => JSON.stringify({ ...p, backend: '', strategy: '' });
    if (fixed(settings) !== fixed(session.settings))
      note = '; other changed settings apply after Reset';
  } else {
    session = await newSession(settings);
  }
  setText('status', `training on ${backend}${note}`);
  stopRequested = false;
  setRunning(true);
  running = trainLoop(session)
    .catch(showError)
    .finally(() => {
      running = null;
      setRunning(false);
      setText('status', `paused after step ${session?.steps ?? 0}`);
    });
}

async function pause(): Promise<void> {
  stopRequested = true;
  await running;
}

async function reset(): Promise<void> {
  await pause();
  session?.dispose();
  session = null;
  records = [];
  validation = [];
  drawCurves();
  for (const id of ['stat-loss', 'stat-smooth', 'stat-acc', 'stat-val', 'stat-speed'])
    setText(id, '-');
  setText('stat-step', '0');
  setRunning(false);
  setText('status', 'reset: settings apply at the next start');
}

async function main(): Promise<void> {
  initForm();
  byId('start').addEventListener('click', guarded(start));
  byId('pause').addEventListener('click', guarded(pause));
  byId('reset').addEventListener('click', guarded(reset));
  byId('independence-run').addEventListener(
    'click',
    guarded(() => independence(session)),
  );
  byId('bn-toggle').addEventListener(
    'change',
    guarded(async () => {
      if (session && !running) await independence(session);
    }),
  );
  byId('agreement-run').addEventListener(
    'click',
    guarded(() => agreement(session, BACKEND_OPTIONS)),
  );
  await initBackends();
  drawCurves();
  document.body.dataset.ready = 'true';
}

main().catch(showError);
