"""The seed's first implementation, `vbn_single`, as TensorFlow 1.x graph code in its own style:
one pass over [reference_batch; inputs], each VBN layer taking its statistics from the first
`shape[0] // 2` rows, and the inputs sliced back out at `shape[0] // 2`. That split is right only
when the input batch has as many rows as the reference (B = N).

The seed normalizes every row with the reference statistics: check it with --mode reference.
The seed's NCHW becomes NHWC here (TensorFlow's CPU convolution takes NHWC); gamma and beta come
from `params` instead of tf.get_variable so that both implementations share the same weights.

  npx vbn check --a examples/seed_vbn_single.py --b examples/seed_vbn_double.py --mode reference
"""

import tensorflow.compat.v1 as tf

FRAMEWORK = "tensorflow-v1"
LAYOUT = "vbn"
JIT = True  # the seed ran with XLA


def vbn_single(x, gamma, beta, epsilon=1e-5):
    assert isinstance(epsilon, float)
    shape = x.get_shape().as_list()
    if shape[0] is None:
        half_size = x.shape[0] // 2
    else:
        half_size = shape[0] // 2
    ref_half = tf.slice(x, [0, 0, 0, 0], [half_size, shape[1], shape[2], shape[3]])
    ref_mean, ref_var = tf.nn.moments(ref_half, [0, 1, 2], keep_dims=True)
    inv_std = tf.rsqrt(ref_var + epsilon)
    coeff = inv_std * gamma
    return (x * coeff) + (beta - ref_mean * coeff)


def build(params, reference_batch, inputs):
    full_inputs = tf.concat([reference_batch, inputs], axis=0)
    L = [full_inputs]
    i = 0
    while "conv%d/kernel" % i in params:
        L.append(tf.nn.conv2d(L[-1], params["conv%d/kernel" % i], strides=[1, 1, 1, 1], padding="VALID"))
        L.append(vbn_single(L[-1], params["vbn%d/gamma" % i], params["vbn%d/beta" % i]))
        L.append(tf.nn.relu(L[-1], name="Activ%d" % i))
        i += 1
    shape = L[-1].get_shape().as_list()
    half_size = shape[0] // 2
    L.append(tf.slice(L[-1], [half_size, 0, 0, 0], [half_size, shape[1], shape[2], shape[3]]))
    L.append(tf.reduce_mean(L[-1], axis=[1, 2]))
    L.append(tf.matmul(L[-1], params["dense/kernel"]) + params["dense/bias"])
    return L[-1]
