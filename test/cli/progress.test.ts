import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progressHooks, epochLine } from '../../src/cli/progress.js';

function stream(tty: boolean) {
  let text = '';
  const s = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  }) as Writable & {
    isTTY?: boolean;
    columns?: number;
    cursorTo?: unknown;
    clearLine?: unknown;
    moveCursor?: unknown;
  };
  s.isTTY = tty;
  s.columns = 140;
  s.cursorTo = (_x: number, _y?: number, cb?: () => void) => (cb?.(), true);
  s.clearLine = (_d: number, cb?: () => void) => (cb?.(), true);
  s.moveCursor = (_x: number, _y: number, cb?: () => void) => (cb?.(), true);
  return { s: s as unknown as NodeJS.WriteStream, text: () => text };
}

const metrics = {
  epoch: 1,
  step: 10,
  trainLoss: 0.5,
  trainAccuracy: 0.75,
  valLoss: 0.4,
  valAccuracy: 0.8125,
  examplesPerSecond: 123.4,
  seconds: 2.5,
};

describe('progress', () => {
  it('a terminal gets a bar with steps, loss, accuracy, examples/s and ETA, then the epoch line', () => {
    const { s, text } = stream(true);
    const p = progressHooks({ quiet: false, stream: s });
    p.onStart!({ stepsPerEpoch: 10, epochs: 2, state: {} as never, net: {} as never });
    for (let i = 1; i <= 10; i++)
      p.onStep!({
        epoch: 1,
        stepInEpoch: i,
        stepsPerEpoch: 10,
        loss: 0.5,
        accuracy: 0.75,
        examplesPerSecond: 123.4,
      });
    p.onEpoch!(metrics, [metrics]);
    expect(text()).toMatch(
      /epoch 1\/2 \|.*\| \d+\/10 steps \| loss 0\.5000 \| acc 75\.00% \| 123 ex\/s \| ETA/,
    );
    expect(text()).toContain(epochLine(metrics, 2));
  });
  it('logs (not a terminal) get one plain line per epoch and no bar', () => {
    const { s, text } = stream(false);
    const p = progressHooks({ quiet: false, stream: s });
    p.onStart!({ stepsPerEpoch: 10, epochs: 2, state: {} as never, net: {} as never });
    p.onStep!({
      epoch: 1,
      stepInEpoch: 1,
      stepsPerEpoch: 10,
      loss: 0.5,
      accuracy: 0.75,
      examplesPerSecond: 123.4,
    });
    p.onEpoch!(metrics, [metrics]);
    expect(text()).toBe(
      'epoch 1/2  train loss 0.5000 acc 75.00%  val loss 0.4000 acc 81.25%  123 ex/s  2.5 s\n',
    );
  });
  it('--quiet silences both', () => {
    const { s, text } = stream(true);
    const p = progressHooks({ quiet: true, stream: s });
    expect(p.onStep).toBeUndefined();
    expect(p.onEpoch).toBeUndefined();
    expect(text()).toBe('');
  });
});
