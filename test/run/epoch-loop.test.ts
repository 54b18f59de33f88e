import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runEpochs, type RunPosition } from '../../src/run/epoch-loop.js';
import { epochOrder } from '../../src/run/order.js';

interface Plan {
  examples: number;
  stepsPerEpoch: number;
  epochs: number;
  checkpointEvery: number;
  seed: number;
}

/** What the loop asked the run to do, in order. */
type Event =
  | { kind: 'step'; epoch: number; batch: number; order: number[] }
  | { kind: 'endEpoch'; epoch: number }
  | { kind: 'checkpoint'; step: number };

/**
 * A run that only records: step and endEpoch advance the position as a real run does, and every
 * checkpoint (mid-epoch, or the one an epoch's end writes) keeps a copy of the position.
 * `stopAfter` makes shouldStop true once that many steps of the run are done.
 */
async function fakeRun(plan: Plan, from: RunPosition, stopAfter = Infinity) {
  const at = structuredClone(from);
  const events: Event[] = [];
  let saved: RunPosition | null = null;
  const interrupted = await runEpochs({
    ...plan,
    position: at,
    step(order) {
      events.push({ kind: 'step', epoch: at.epoch, batch: at.stepInEpoch, order });
      at.step++;
      at.stepInEpoch++;
    },
    async endEpoch() {
      events.push({ kind: 'endEpoch', epoch: at.epoch });
      at.epoch++;
      at.stepInEpoch = 0;
      saved = structuredClone(at);
    },
    async checkpoint() {
      events.push({ kind: 'checkpoint', step: at.step });
      saved = structuredClone(at);
    },
    shouldStop: () => at.step >= stopAfter,
  });
  return { interrupted, events, saved: saved as RunPosition | null, at };
}

/** The schedule written out from its definition: every step, epoch ends, periodic checkpoints. */
function expectedEvents(plan: Plan): Event[] {
  const out: Event[] = [];
  for (let t = 1; t <= plan.epochs * plan.stepsPerEpoch; t++) {
    const epoch = Math.floor((t - 1) / plan.stepsPerEpoch);
    const batch = (t - 1) % plan.stepsPerEpoch;
    out.push({ kind: 'step', epoch, batch, order: epochOrder(plan.examples, plan.seed, epoch) });
    const endsEpoch = t % plan.stepsPerEpoch === 0;
    if (!endsEpoch && plan.checkpointEvery > 0 && t % plan.checkpointEvery === 0) {
      out.push({ kind: 'checkpoint', step: t });
    }
    if (endsEpoch) out.push({ kind: 'endEpoch', epoch });
  }
  return out;
}

const start: RunPosition = { epoch: 0, stepInEpoch: 0, step: 0 };
const steps = (events: Event[]) => events.filter((e) => e.kind === 'step');

const plans = fc.record({
  examples: fc.integer({ min: 1, max: 40 }),
  stepsPerEpoch: fc.integer({ min: 1, max: 6 }),
  epochs: fc.integer({ min: 1, max: 4 }),
  checkpointEvery: fc.integer({ min: 0, max: 5 }),
  seed: fc.integer({ min: 0, max: 1000 }),
});

describe('runEpochs', () => {
  it('runs every step in its epoch order, closes each epoch, checkpoints inside epochs when due', async () => {
    await fc.assert(
      fc.asyncProperty(plans, async (plan) => {
        const r = await fakeRun(plan, start);
        expect(r.interrupted).toBe(false);
        expect(r.events).toEqual(expectedEvents(plan));
        expect(r.at).toEqual({
          epoch: plan.epochs,
          stepInEpoch: 0,
          step: plan.epochs * plan.stepsPerEpoch,
        });
      }),
      { numRuns: 60 },
    );
  });

  it('a run stopped after any step and resumed from its checkpoint takes the same steps', async () => {
    const withStop = plans.chain((plan) =>
      fc.tuple(fc.constant(plan), fc.integer({ min: 1, max: plan.epochs * plan.stepsPerEpoch })),
    );
    await fc.assert(
      fc.asyncProperty(withStop, async ([plan, k]) => {
        const whole = steps(expectedEvents(plan));
        const first = await fakeRun(plan, start, k);
        const last = k === plan.epochs * plan.stepsPerEpoch;
        // Stopped before the last epoch is done: interrupted, with a checkpoint at step k.
        expect(first.interrupted).toBe(!last);
        expect(first.saved?.step).toBe(k);
        expect(steps(first.events)).toEqual(whole.slice(0, k));
        const second = await fakeRun(plan, first.saved!);
        expect(second.interrupted).toBe(false);
        expect(steps(second.events)).toEqual(whole.slice(k));
      }),
      { numRuns: 80 },
    );
  });

  it('a stop asked for at an epoch end closes that epoch first, and nothing runs past --epochs', async () => {
    const plan = { examples: 10, stepsPerEpoch: 3, epochs: 2, checkpointEvery: 0, seed: 1 };
    const r = await fakeRun(plan, start, 3);
    expect(r.interrupted).toBe(true);
    expect(r.events.map((e) => e.kind)).toEqual(['step', 'step', 'step', 'endEpoch']);
    const done = await fakeRun(plan, { epoch: 2, stepInEpoch: 0, step: 6 });
    expect(done).toMatchObject({ interrupted: false, events: [] });
  });
});
