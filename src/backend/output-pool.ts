/**
 * Reuse of kernel output arrays, for a backend whose tensors keep their data in typed arrays
 * (the cpu backend's storage). An array may be reused only when nothing else can still see it:
 *
 * - the pool made it (`track`): never an array a caller passed in (`tf.tensor(values)` keeps the
 *   caller's array as the tensor's data);
 * - it became the data of exactly one tensor (`held`): an array written to a second tensor, or a
 *   view of it (the cpu Slice returns subarrays of its input) written to any tensor, is shared;
 * - it was never read out (`escaped`): `dataSync()` and `data()` return the stored array itself,
 *   which the caller may keep after disposing the tensor;
 * - its tensor was disposed (`give`).
 *
 * A shared or escaped array is left to the garbage collector, as every array is without a pool.
 * `take` hands out an array of the asked length, zeroed or as it was, or null.
 */
type State = 'fresh' | 'held' | 'shared' | 'pooled';

export class OutputPool {
  private readonly state = new WeakMap<Float32Array, State>();
  /** The tracked array whose buffer this is (views have the buffer but are other objects). */
  private readonly owner = new WeakMap<ArrayBufferLike, Float32Array>();
  private readonly free = new Map<number, Float32Array[]>();
  private pooledBytes = 0;

  /**
   * @param maxLength arrays longer than this are not reused
   * @param maxPooledBytes the pool keeps at most this many bytes of disposed arrays
   */
  constructor(
    private readonly maxLength: number,
    private readonly maxPooledBytes: number,
  ) {}

  /**
   * Registers a new output array, which the pool may later reuse (up to maxLength elements) and
   * a kernel may write over while it is private (any length); returns it.
   */
  track(a: Float32Array): Float32Array {
    this.state.set(a, 'fresh');
    this.owner.set(a.buffer, a);
    return a;
  }

  /**
   * Whether `values` is one tensor's data that nothing else can see (tracked, held, never read
   * out, viewed or shared): the data a kernel may write over when that tensor is its to give up.
   */
  isPrivate(values: Float32Array): boolean {
    return this.owner.get(values.buffer) === values && this.state.get(values) === 'held';
  }

  /**
   * A disposed array of n elements, or null: zeroed, or with `zeroed` false as it was (its last
   * tensor's values), for an output the caller writes in full.
   */
  take(n: number, zeroed = true): Float32Array | null {
    const a = this.free.get(n)?.pop();
    if (!a) return null;
    this.pooledBytes -= a.byteLength;
    this.state.set(a, 'fresh');
    return zeroed ? a.fill(0) : a;
  }

  /** `values` became a tensor's data. */
  held(values: unknown): void {
    const owner = this.ownerOf(values);
    if (!owner) return;
    // A second tensor, or a view beside the owner (give takes only the owner itself): shared.
    this.state.set(owner, this.state.get(owner) === 'fresh' ? 'held' : 'shared');
  }

  /** `values` (a tensor's data) was handed to a caller. */
  escaped(values: unknown): void {
    const owner = this.ownerOf(values);
    if (owner) this.state.set(owner, 'shared');
  }

  /** The tensor holding `values` was disposed: whether the pool took the array. */
  give(values: Float32Array): boolean {
    if (values.length > this.maxLength || !this.isPrivate(values)) return false;
    if (this.pooledBytes + values.byteLength > this.maxPooledBytes) {
      this.state.set(values, 'shared');
      return false;
    }
    this.state.set(values, 'pooled');
    this.pooledBytes += values.byteLength;
    const list = this.free.get(values.length);
    if (list) list.push(values);
    else this.free.set(values.length, [values]);
    return true;
  }

  /** Bytes of disposed arrays waiting for reuse. */
  get bytes(): number {
    return this.pooledBytes;
  }

  private ownerOf(values: unknown): Float32Array | undefined {
    return ArrayBuffer.isView(values) ? this.owner.get(values.buffer) : undefined;
  }
}
