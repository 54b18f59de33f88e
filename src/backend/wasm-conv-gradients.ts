import * as tf from '@tensorflow/tfjs-core';

/**
 * Convolution gradients for the wasm backend, composed from wasm's own kernels (called through the
 * kernel registry, so no engine tensors are made inside a kernel) and expressed as *forward*
 * convolutions, which wasm runs with XNNPACK:
 *
 * Conv2DBackpropFilter (wasm ships none, so convnets cannot train on it as shipped):
 *   x: [B, H, W, Ci], dy: [B, OH, OW, Co] -> dW: [KH, KW, Ci, Co]
 *   dW[kh,kw,ci,co] = sum_{b,oh,ow} xpad[b, oh*s + kh, ow*s + kw, ci] * dy[b,oh,ow,co]
 *   = conv2d(xpad^T as [Ci, Hp, Wp, B], dy^T as filter [OH, OW, B, Co], dilation s)[ci, kh, kw, co]
 *
 * Conv2DBackpropInput (wasm's own is a slow reference loop):
 *   dx = conv2d(pad(dilate_s(dy)), flip(W) with in/out channels swapped), valid, stride 1.
 *
 * Both are checked against the cpu backend's kernels in test/backend/wasm-conv.test.ts.
 */
interface ConvGradAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
}

interface WasmBackendLike {
  disposeData(dataId: object): boolean;
}

/** Runs kernels of one backend by name and frees every intermediate it made. */
class KernelScope {
  private readonly made: tf.TensorInfo[] = [];
  constructor(
    private readonly backend: tf.KernelBackend,
    private readonly backendName: string,
  ) {}
  run(name: string, inputs: Record<string, tf.TensorInfo>, attrs: object): tf.TensorInfo {
    const kernel = tf.getKernel(name, this.backendName);
    if (!kernel) throw new Error(`kernel ${name} is not registered for ${this.backendName}`);
    const out = kernel.kernelFunc({
      inputs,
      backend: this.backend,
      attrs: attrs as unknown as tf.NamedAttrMap,
    }) as tf.TensorInfo;
    this.made.push(out);
    return out;
  }
  /** Frees every intermediate except `keep`. */
  finish(keep: tf.TensorInfo): tf.TensorInfo {
    for (const t of this.made) {
      if (t !== keep) (this.backend as unknown as WasmBackendLike).disposeData(t.dataId);
    }
    return keep;
  }
}

function convInfo(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: ConvGradAttrs,
): tf.backend_util.Conv2DInfo {
  if (attrs.dataFormat !== 'NHWC') {
    throw new Error(`wasm conv gradient: only NHWC is supported, got ${attrs.dataFormat}`);
  }
  return tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** dW as a dilated forward convolution. */
export function conv2dBackpropFilterWasm(
  k: KernelScope,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  filterShape: [number, number, number, number],
  attrs: ConvGradAttrs,
): tf.TensorInfo {
  const info = convInfo(x.shape as [number, number, number, number], filterShape, attrs);
  const { strideHeight: sh, strideWidth: sw, padInfo } = info;
  const [kh, kw] = filterShape;
  let xp = x;
  if (padInfo.top || padInfo.bottom || padInfo.left || padInfo.right) {
    xp = k.run(
      'PadV2',
      { x },
      {
        paddings: [
          [0, 0],
          [padInfo.top, padInfo.bottom],
          [padInfo.left, padInfo.right],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
  }
  const xt = k.run('Transpose', { x: xp }, { perm: [3, 1, 2, 0] }); // [Ci, Hp, Wp, B]
  const ft = k.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, B, Co]
  const o = k.run(
    'Conv2D',
    { x: xt, filter: ft },
    {
      strides: 1,
      pad: 'valid',
      dataFormat: 'NHWC',
      dilations: [sh, sw],
      dimRoundingMode: undefined,
    },
  ); // [Ci, >=KH, >=KW, Co]
  let cropped = o;
  if (o.shape[1] !== kh || o.shape[2] !== kw) {
    cropped = k.run(
      'Slice',
      { x: o },
      { begin: [0, 0, 0, 0], size: [o.shape[0], kh, kw, o.shape[3]] },
    );
  }
  return k.run('Transpose', { x: cropped }, { perm: [1, 2, 0, 3] });
}

/** dx as a forward convolution of the (dilated, padded) dy with the flipped filter. */
export function conv2dBackpropInputWasm(
  k: KernelScope,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  inputShape: [number, number, number, number],
  attrs: ConvGradAttrs,
): tf.TensorInfo {
  const filterShape = filter.shape as [number, number, number, number];
  const info = convInfo(inputShape, filterShape, attrs);
  const { strideHeight: sh, strideWidth: sw, padInfo, outHeight: oh, outWidth: ow } = info;
  const [kh, kw, ci, co] = filterShape;
  const [b, h, w] = inputShape;
  let d = dy;
  if (sh > 1 || sw > 1) {
    // Insert s-1 zeros after each row/column: [B,OH,1,OW,1,Co] -> pad -> [B,OH*sh,OW*sw,Co].
    const r = k.run('Reshape', { x: dy }, { shape: [b, oh, 1, ow, 1, co] });
    const p = k.run(
      'PadV2',
      { x: r },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [0, sh - 1],
          [0, 0],
          [0, sw - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    d = k.run('Reshape', { x: p }, { shape: [b, oh * sh, ow * sw, co] });
  }
  // Dilated length is (OH-1)*sh + 1; the trailing zeros of the last row are harmless only if
  // they fit, so crop or pad to the exact extent below.
  const lenH = (oh - 1) * sh + 1;
  const lenW = (ow - 1) * sw + 1;
  const top = kh - 1 - padInfo.top;
  const left = kw - 1 - padInfo.left;
  const bottom = h + padInfo.top - lenH;
  const right = w + padInfo.left - lenW;
  if (d.shape[1] !== lenH || d.shape[2] !== lenW) {
    d = k.run('Slice', { x: d }, { begin: [0, 0, 0, 0], size: [b, lenH, lenW, co] });
  }
  let dp = d;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) {
    throw new Error('wasm Conv2DBackpropInput: padding larger than the kernel is not supported');
  }
  if (top || left || bottom || right) {
    dp = k.run(
      'PadV2',
      { x: d },
      {
        paddings: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
  }
  const flipped = k.run('Reverse', { x: filter }, { dims: [0, 1] });
  const wt = k.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }); // [KH, KW, Co, Ci]
  const out = k.run(
    'Conv2D',
    { x: dp, filter: wt },
    { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined },
  );
  if (out.shape[1] !== h || out.shape[2] !== w || out.shape[3] !== ci) {
    throw new Error(
      `wasm Conv2DBackpropInput: internal shape mismatch ${out.shape} vs ${inputShape}`,
    );
  }
  return out;
}

const registered = new Set<string>();

/**
 * Registers the composed kernels for the wasm backend: Conv2DBackpropFilter (absent in wasm) and
 * Conv2DBackpropInput (replacing wasm's slow one). Idempotent.
 */
export function registerWasmConvGradients(): void {
  const backendName = 'wasm';
  const add = (
    kernelName: string,
    f: (
      k: KernelScope,
      inputs: Record<string, tf.TensorInfo>,
      attrs: ConvGradAttrs,
    ) => tf.TensorInfo,
  ) => {
    if (registered.has(kernelName)) return;
    if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({
      kernelName,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const k = new KernelScope(backend as tf.KernelBackend, backendName);
        return k.finish(
          f(k, inputs as Record<string, tf.TensorInfo>, attrs as unknown as ConvGradAttrs),
        );
      },
    });
    registered.add(kernelName);
  };
  add('Conv2DBackpropFilter', (k, { x, dy }, attrs) =>
    conv2dBackpropFilterWasm(k, x, dy, attrs.filterShape!, attrs),
  );
  add('Conv2DBackpropInput', (k, { dy, filter }, attrs) =>
    conv2dBackpropInputWasm(k, dy, filter, attrs.inputShape!, attrs),
  );
}
