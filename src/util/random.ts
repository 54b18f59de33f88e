/**
 * A small seeded generator (mulberry32) whose whole state is one integer, so that a run's data
 * order can be saved in a checkpoint and resumed exactly.
 */
export class Random {
  constructor(public state: number) {
    this.state = state >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** In-place Fisher-Yates shuffle. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
}

/**
 * A seed for tf.random* ops from a run seed and a stream number. Never 0: TensorFlow.js treats a
 * seed of 0 as "no seed" (`seed ? seed : Math.random()`), which silently made runs random.
 */
export function tfSeed(seed: number, stream: number): number {
  const h = (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
  return h === 0 ? 1 : h;
}
