import { VbnError } from '../../errors.js';
import type { WireArray } from '../external.js';

/** An array on the wire: dtype, shape, base64 of the little-endian bytes (docs/check-protocol.md). */
export interface EncodedArray {
  dtype: string;
  shape: number[];
  data: string;
}

const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
if (!little) throw new Error('vbn check speaks little-endian arrays; this machine is big-endian');

export function encodeArray(shape: readonly number[], values: ArrayLike<number>): EncodedArray {
  const f = Float32Array.from(values);
  return {
    dtype: 'float32',
    shape: [...shape],
    data: Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64'),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Decodes one array of a reply; `owner` and `what` name it in errors. */
export function decodeArray(owner: string, what: string, v: unknown): WireArray | undefined {
  if (v === undefined || v === null) return undefined;
  const ok =
    isObject(v) &&
    typeof v.dtype === 'string' &&
    Array.isArray(v.shape) &&
    v.shape.every((d) => Number.isInteger(d) && d >= 0) &&
    typeof v.data === 'string';
  if (!ok) {
    throw new VbnError(
      `${owner}: the worker sent ${what} that is not an array {dtype, shape, data} (docs/check-protocol.md)`,
    );
  }
  const bytes = Buffer.from(v.data as string, 'base64');
  const width = v.dtype === 'float64' ? 8 : v.dtype === 'float32' ? 4 : 0;
  if (width === 0)
    return { dtype: v.dtype as string, shape: v.shape as number[], values: new Float32Array(0) };
  const copy = new Uint8Array(bytes);
  const values =
    width === 8
      ? new Float64Array(copy.buffer, 0, Math.floor(copy.length / 8))
      : new Float32Array(copy.buffer, 0, Math.floor(copy.length / 4));
  return { dtype: v.dtype as string, shape: v.shape as number[], values };
}

/** Decodes a map of arrays (activations, gradients). */
export function decodeMap(owner: string, what: string, v: unknown): Record<string, WireArray> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw new VbnError(`${owner}: the worker sent ${what} that is not an object`);
  const out: Record<string, WireArray> = {};
  for (const [k, a] of Object.entries(v)) {
    const d = decodeArray(owner, `${what} '${k}'`, a);
    if (d) out[k] = d;
  }
  return out;
}
