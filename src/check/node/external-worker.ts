import type { VbnNet } from '../../model/net.js';
import { VbnError } from '../../errors.js';
import {
  checkReturned,
  splitHint,
  type ExternalImplementation,
  type Values,
  type WireArray,
} from '../external.js';
import type { ParamValues } from '../float64.js';
import { decodeArray, decodeMap, encodeArray } from './protocol.js';
import { Worker, type WorkerSpec } from './worker.js';

const encodeParams = (params: Record<string, ParamValues>) =>
  Object.fromEntries(Object.entries(params).map(([n, p]) => [n, encodeArray(p.shape, p.values)]));

/** An activation as sent: float32 or float64 values of the shape it names. */
function activation(owner: string, name: string, a: WireArray): Values {
  const size = a.shape.reduce((x, y) => x * y, 1);
  if (a.values.length !== size) {
    throw new VbnError(
      `${owner}: activation '${name}' has ${a.values.length} values for shape [${a.shape.join(',')}]`,
    );
  }
  return { shape: a.shape, values: Float32Array.from(a.values) };
}

/**
 * Starts a worker (docs/check-protocol.md) and tells it the network; the implementation it
 * returns sends parameters and data with every request and checks every reply.
 */
export async function startExternal(
  spec: WorkerSpec,
  net: VbnNet,
): Promise<ExternalImplementation> {
  const owner = spec.owner;
  const worker = new Worker(spec);
  const c = net.config;
  let hello: Record<string, unknown>;
  try {
    hello = await worker.request('init', {
      network: {
        ...c,
        parameters: Object.fromEntries(net.parameterNames.map((n) => [n, net.parameterShapes[n]])),
      },
    });
  } catch (e) {
    await worker.close();
    throw e;
  }
  const runtime = ['framework', 'version', 'device', 'compiler']
    .map((k) => hello[k])
    .filter((v) => typeof v === 'string' && v.length > 0)
    .join(' ');
  const body = (params: Record<string, ParamValues>, reference: Values, inputs: Values) => ({
    params: encodeParams(params),
    reference: encodeArray(reference.shape, reference.values),
    inputs: encodeArray(inputs.shape, inputs.values),
  });
  const logits = (r: Record<string, unknown>, reference: Values, inputs: Values) => {
    const a = decodeArray(owner, 'logits', r.logits);
    const [n, b] = [reference.shape[0], inputs.shape[0]];
    const hint = a ? splitHint(a.shape[0], n, b) : '';
    return checkReturned(owner, 'logits', a, [b, c.numClasses], hint);
  };
  return {
    name: owner,
    runtime: runtime || 'unknown runtime',
    async forward(params, reference, inputs, activations) {
      const r = await worker.request('forward', {
        ...body(params, reference, inputs),
        activations,
      });
      const acts = decodeMap(owner, 'activations', r.activations);
      return {
        logits: logits(r, reference, inputs),
        activations: Object.fromEntries(
          Object.entries(acts).map(([k, a]) => [k, activation(owner, k, a)]),
        ),
      };
    },
    async gradients(params, reference, inputs, labels) {
      const r = await worker.request('gradients', {
        ...body(params, reference, inputs),
        labels: Array.from(labels),
      });
      const g = decodeMap(owner, 'gradients', r.gradients);
      const grads: Record<string, Values> = {};
      for (const n of net.parameterNames) {
        grads[n] = checkReturned(owner, `gradient for parameter '${n}'`, g[n], params[n].shape);
      }
      grads.reference = checkReturned(
        owner,
        "gradient for 'reference'",
        g.reference,
        reference.shape,
      );
      return { logits: logits(r, reference, inputs), grads };
    },
    close: () => worker.close(),
  };
}
