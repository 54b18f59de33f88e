import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from 'vbn';
import { BACKENDS } from '../support/helpers.js';
import {
  NET_CASES,
  NORMS,
  discriminatorGradients,
  generatorGradients,
  layerFitMovement,
  netGradients,
  relativeErrors,
  variableGradients,
  type Values,
} from '../support/contract.js';
import { netOracle } from '../support/contract-oracle.js';

/**
 * The differentiability contract on every Node backend that initializes (test/support/contract.ts;
 * the browser's backends run the same functions in test/web/browser.test.ts): each backend's
 * gradients equal cpu's within 1e-5 relative by norm, and cpu's equal the float64 oracle's.
 */
const TOL = 1e-5;

/** Both hold the same names, and every value is within TOL of cpu's (absolute where cpu's is 0). */
function expectAgree(got: Values, want: Values | Record<string, Float64Array>) {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  const errs = relativeErrors(got, want);
  for (const [k, e] of Object.entries(errs)) expect(e, k).toBeLessThan(TOL);
}

await tf.setBackend('cpu');
const CPU = {
  nets: new Map<string, Values>(),
  vars: new Map<string, Values>(),
  gens: new Map<string, Values>(),
  disc: await discriminatorGradients(),
};
for (const c of NET_CASES) {
  CPU.nets.set(c.name, await netGradients(c));
  if (c.strategy !== 'cached') CPU.vars.set(c.name, await variableGradients(c));
}
for (const norm of NORMS) CPU.gens.set(norm, await generatorGradients(norm));

describe('differentiability contract: cpu against the float64 oracle', () => {
  for (const c of NET_CASES) {
    it(`createVbnNet ${c.name}: logits and the gradient w.r.t. every parameter, the reference and the inputs`, () => {
      expectAgree(CPU.nets.get(c.name)!, netOracle(c));
    });
  }
});

for (const backend of BACKENDS) {
  describe(`differentiability contract on ${backend}`, () => {
    beforeAll(async () => {
      await useBackend(backend);
    });

    for (const c of NET_CASES) {
      const wrt = c.strategy === 'cached' ? 'the inputs' : 'the reference and the inputs';
      it(`createVbnNet ${c.name}: tf.grads w.r.t. every parameter, ${wrt} equal cpu's`, async () => {
        expectAgree(await netGradients(c), CPU.nets.get(c.name)!);
      });
      if (c.strategy === 'cached') continue;
      it(`createVbnNet ${c.name}: tf.variableGrads reaches a trainable reference and a trainable op before the network`, async () => {
        const got = await variableGradients(c);
        expect(Object.keys(got)).toEqual(expect.arrayContaining(['reference', 'scale']));
        expectAgree(got, CPU.vars.get(c.name)!);
        const refNorm = Math.hypot(...got.reference);
        if (c.config.stopReferenceGradient) expect(refNorm).toBe(0);
        else expect(refNorm).toBeGreaterThan(1e-3);
      });
    }

    for (const norm of NORMS) {
      it(`createGenerator (${norm}): gradients w.r.t. z and every parameter equal cpu's`, async () => {
        expectAgree(await generatorGradients(norm), CPU.gens.get(norm)!);
      });
    }
    it("createDiscriminator: gradients w.r.t. the images and every parameter equal cpu's", async () => {
      expectAgree(await discriminatorGradients(), CPU.disc);
    });

    it('VirtualBatchNormalization in a tf.layers model: model.fit moves the trainable layer before it', async () => {
      const moved = await layerFitMovement();
      // layer0: the dense layer before VBN (its kernel); layer1: VBN's gamma and beta.
      for (const k of ['layer0/0', 'layer1/0', 'layer1/1', 'layer2/0']) {
        expect(moved[k], k).toBeGreaterThan(1e-3);
      }
    });
  });
}
