"""The seed's second implementation, `Vbn_double`, as TensorFlow 1.x graph code in its own style:
the reference batch goes through the network first and each layer keeps its statistics; the
inputs then go through the same weights, normalized with the kept statistics.

The seed normalizes every row with the reference statistics: check it with --mode reference.
The seed's NCHW becomes NHWC here (TensorFlow's CPU convolution takes NHWC); gamma and beta come
from `params` instead of tf.get_variable so that both implementations share the same weights.

  npx vbn check --a examples/seed_vbn_single.py --b examples/seed_vbn_double.py --mode reference
"""

import tensorflow.compat.v1 as tf

FRAMEWORK = "tensorflow-v1"
LAYOUT = "vbn"
JIT = True  # the seed ran with XLA


class Vbn_double(object):
    def __init__(self, x, gamma, beta, epsilon=1e-5):
        self.gamma = gamma
        self.beta = beta
        self.epsilon = epsilon
        self.mean, self.var = tf.nn.moments(x, [0, 1, 2], keep_dims=True)
        self.inv_std = tf.rsqrt(self.var + epsilon)
        self.batch_size = int(x.get_shape()[0])
        self.reference_output = self._normalize(x, self.mean, self.inv_std)

    def __call__(self, x):
        return self._normalize(x, self.mean, self.inv_std)

    def _normalize(self, x, mean, inv_std):
        coeff = self.gamma * inv_std
        return (x * coeff) + (self.beta - mean * coeff)


def build(params, reference_batch, inputs):
    L = [reference_batch]
    vbn = {}
    i = 0
    while "conv%d/kernel" % i in params:
        L.append(tf.nn.conv2d(L[-1], params["conv%d/kernel" % i], strides=[1, 1, 1, 1], padding="VALID"))
        vbn["Norm%d" % i] = Vbn_double(L[-1], params["vbn%d/gamma" % i], params["vbn%d/beta" % i])
        L.append(vbn["Norm%d" % i].reference_output)
        L.append(tf.nn.relu(L[-1], name="Activ%d" % i))
        i += 1
    L.append(inputs)
    for k in range(i):
        L.append(tf.nn.conv2d(L[-1], params["conv%d/kernel" % k], strides=[1, 1, 1, 1], padding="VALID"))
        L.append(vbn["Norm%d" % k](L[-1]))
        L.append(tf.nn.relu(L[-1], name="Activ%d" % k))
    L.append(tf.reduce_mean(L[-1], axis=[1, 2]))
    L.append(tf.matmul(L[-1], params["dense/kernel"]) + params["dense/bias"])
    return L[-1]
