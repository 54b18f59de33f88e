"""vbn's network in TensorFlow 2, compiled with XLA (the worker wraps apply in
tf.function(jit_compile=True)), one pass over [reference; inputs] split at the reference size N.

Check it: npx vbn check --a examples/tf2_xla.py --backends cpu
"""

import tensorflow as tf

FRAMEWORK = "tensorflow"
LAYOUT = "vbn"  # images [B, H, W, C], conv kernels [k, k, Cin, F], dense/kernel [F, classes]
JIT = True
EPSILON = 1e-5


def vbn_concat(h, n, gamma, beta, eps=EPSILON):
    """h [N+B, H, W, C]: batch norm of the first N rows, virtual statistics for the others."""
    ref, x = h[:n], h[n:]
    mu_r = tf.reduce_mean(ref, axis=[0, 1, 2], keepdims=True)  # [1, 1, 1, C]
    var_r = tf.reduce_mean(tf.square(ref - mu_r), axis=[0, 1, 2], keepdims=True)
    w = 1.0 / (n + 1)
    d = x - mu_r
    m = tf.reduce_mean(d, axis=[1, 2], keepdims=True)  # [B, 1, 1, C]
    var_x = w * tf.reduce_mean(tf.square(d), axis=[1, 2], keepdims=True) + (1 - w) * var_r - tf.square(w * m)
    out_r = gamma * (ref - mu_r) * tf.math.rsqrt(var_r + eps) + beta
    out_x = gamma * (d - w * m) * tf.math.rsqrt(var_x + eps) + beta
    return tf.concat([out_r, out_x], axis=0)


def apply(params, reference, inputs):
    n = reference.shape[0]
    h = tf.concat([reference, inputs], axis=0)
    activations = {}
    i = 0
    while f"conv{i}/kernel" in params:
        h = tf.nn.conv2d(h, params[f"conv{i}/kernel"], strides=1, padding="VALID")
        h = tf.nn.relu(vbn_concat(h, n, params[f"vbn{i}/gamma"], params[f"vbn{i}/beta"]))
        activations[f"block{i}"] = h[n:]
        i += 1
    pooled = tf.reduce_mean(h[n:], axis=[1, 2])
    logits = tf.matmul(pooled, params["dense/kernel"]) + params["dense/bias"]
    return {"logits": logits, "activations": activations}
