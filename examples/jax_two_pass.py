"""vbn's network in JAX, two passes (the reference first, then the inputs with the kept
statistics), run op by op (JIT = False); gradients by jax.value_and_grad.

Check it: npx vbn check --a examples/jax_two_pass.py --backends cpu
"""

import jax
import jax.numpy as jnp

FRAMEWORK = "jax"
LAYOUT = "vbn"  # images [B, H, W, C], conv kernels [k, k, Cin, F], dense/kernel [F, classes]
JIT = False  # with True, jax.jit gives logits 1 ulp apart with and without grad: see the README
EPSILON = 1e-5


def conv(x, kernel):
    """x [B, H, W, Cin], kernel [k, k, Cin, F] -> [B, H-k+1, W-k+1, F] (stride 1, 'valid')."""
    return jax.lax.conv_general_dilated(x, kernel, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))


def apply(params, reference, inputs):
    n = reference.shape[0]
    w = 1.0 / (n + 1)
    r, x = reference, inputs
    activations = {}
    i = 0
    while f"conv{i}/kernel" in params:
        kernel, gamma, beta = params[f"conv{i}/kernel"], params[f"vbn{i}/gamma"], params[f"vbn{i}/beta"]
        yr, yx = conv(r, kernel), conv(x, kernel)
        mu_r = jnp.mean(yr, axis=(0, 1, 2))  # [C]
        var_r = jnp.mean(jnp.square(yr - mu_r), axis=(0, 1, 2))
        r = jax.nn.relu(gamma * (yr - mu_r) / jnp.sqrt(var_r + EPSILON) + beta)
        d = yx - mu_r
        m = jnp.mean(d, axis=(1, 2), keepdims=True)  # [B, 1, 1, C]
        var_x = w * jnp.mean(jnp.square(d), axis=(1, 2), keepdims=True) + (1 - w) * var_r - jnp.square(w * m)
        x = jax.nn.relu(gamma * (d - w * m) / jnp.sqrt(var_x + EPSILON) + beta)
        activations[f"block{i}"] = x
        i += 1
    logits = jnp.mean(x, axis=(1, 2)) @ params["dense/kernel"] + params["dense/bias"]
    return {"logits": logits, "activations": activations}
