/**
 * A float64 reverse-mode automatic differentiation tape over scalars (micrograd in typed
 * arrays). Independent of TensorFlow.js: the oracle that vbn's float32 kernels are checked
 * against. A node is an integer; each has at most two parents with their local derivatives.
 */
export class Tape {
  private val: Float64Array = new Float64Array(1024);
  private pa: Int32Array = new Int32Array(1024);
  private pb: Int32Array = new Int32Array(1024);
  private da: Float64Array = new Float64Array(1024);
  private db: Float64Array = new Float64Array(1024);
  private n = 0;

  /** Number of nodes recorded. */
  get size(): number {
    return this.n;
  }

  /** The value of node `id`. */
  value(id: number): number {
    return this.val[id];
  }

  private grow(): void {
    const cap = this.val.length * 2;
    const f = (old: Float64Array) => {
      const a = new Float64Array(cap);
      a.set(old);
      return a;
    };
    const i = (old: Int32Array) => {
      const a = new Int32Array(cap);
      a.set(old);
      return a;
    };
    this.val = f(this.val);
    this.da = f(this.da);
    this.db = f(this.db);
    this.pa = i(this.pa);
    this.pb = i(this.pb);
  }

  private push(v: number, a: number, dA: number, b: number, dB: number): number {
    if (this.n === this.val.length) this.grow();
    const k = this.n++;
    this.val[k] = v;
    this.pa[k] = a;
    this.da[k] = dA;
    this.pb[k] = b;
    this.db[k] = dB;
    return k;
  }

  /** An input or constant (no parents). */
  leaf(v: number): number {
    return this.push(v, -1, 0, -1, 0);
  }
  /** The same value with no gradient path (stop-gradient). */
  detach(x: number): number {
    return this.leaf(this.val[x]);
  }
  add(x: number, y: number): number {
    return this.push(this.val[x] + this.val[y], x, 1, y, 1);
  }
  sub(x: number, y: number): number {
    return this.push(this.val[x] - this.val[y], x, 1, y, -1);
  }
  mul(x: number, y: number): number {
    return this.push(this.val[x] * this.val[y], x, this.val[y], y, this.val[x]);
  }
  div(x: number, y: number): number {
    const yv = this.val[y];
    return this.push(this.val[x] / yv, x, 1 / yv, y, -this.val[x] / (yv * yv));
  }
  /** x * c for a constant c. */
  scale(x: number, c: number): number {
    return this.push(this.val[x] * c, x, c, -1, 0);
  }
  /** x + c for a constant c. */
  shift(x: number, c: number): number {
    return this.push(this.val[x] + c, x, 1, -1, 0);
  }
  sqrt(x: number): number {
    const r = Math.sqrt(this.val[x]);
    return this.push(r, x, 0.5 / r, -1, 0);
  }
  relu(x: number): number {
    const v = this.val[x];
    return this.push(v > 0 ? v : 0, x, v > 0 ? 1 : 0, -1, 0);
  }
  exp(x: number): number {
    const e = Math.exp(this.val[x]);
    return this.push(e, x, e, -1, 0);
  }
  log(x: number): number {
    return this.push(Math.log(this.val[x]), x, 1 / this.val[x], -1, 0);
  }
  /** Sum of nodes (pairwise, for accuracy). */
  sum(xs: readonly number[]): number {
    if (xs.length === 0) return this.leaf(0);
    let level = [...xs];
    while (level.length > 1) {
      const next: number[] = [];
      for (let i = 0; i + 1 < level.length; i += 2) next.push(this.add(level[i], level[i + 1]));
      if (level.length % 2 === 1) next.push(level[level.length - 1]);
      level = next;
    }
    return level[0];
  }
  mean(xs: readonly number[]): number {
    return this.scale(this.sum(xs), 1 / xs.length);
  }

  /**
   * Gradients of L = sum_i upstream[i] * outputs[i] with respect to every node.
   */
  backward(outputs: readonly number[], upstream: ArrayLike<number>): Float64Array {
    const g = new Float64Array(this.n);
    outputs.forEach((o, i) => {
      g[o] += upstream[i];
    });
    for (let k = this.n - 1; k >= 0; k--) {
      const gk = g[k];
      if (gk === 0) continue;
      if (this.pa[k] >= 0) g[this.pa[k]] += gk * this.da[k];
      if (this.pb[k] >= 0) g[this.pb[k]] += gk * this.db[k];
    }
    return g;
  }
}

/** A tensor of tape nodes in row-major order. */
export interface NodeTensor {
  shape: number[];
  ids: number[];
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** Leaves for plain values. */
export function leaves(t: Tape, shape: readonly number[], values: ArrayLike<number>): NodeTensor {
  const ids = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) ids[i] = t.leaf(values[i]);
  return { shape: [...shape], ids };
}

export function valuesOf(t: Tape, x: NodeTensor): Float64Array {
  return Float64Array.from(x.ids, (id) => t.value(id));
}
