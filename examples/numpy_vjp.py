"""vbn's network in NumPy (float32), two passes, with its backward pass written by hand: `vjp`
returns the gradient of sum(logits * dlogits) w.r.t. every parameter and the reference.
Convolutions are stride 1, 'valid' (vbn check's default network); VBN in virtual mode.

Check it: npx vbn check --a examples/numpy_vjp.py --backends cpu
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

FRAMEWORK = "numpy"
LAYOUT = "vbn"  # images [B, H, W, C], conv kernels [k, k, Cin, F], dense/kernel [F, classes]
EPSILON = np.float32(1e-5)


def patches(x, k):
    """x [B, H, W, C] -> [B, Ho, Wo, k, k, C], the k x k window under each output pixel."""
    return sliding_window_view(x, (k, k), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3)


def conv(x, kernel):
    """x [B, H, W, Cin], kernel [k, k, Cin, F] -> [B, Ho, Wo, F]."""
    return np.tensordot(patches(x, kernel.shape[0]), kernel, axes=3)


def conv_backward(x, kernel, dy):
    """Gradients of conv(x, kernel) w.r.t. x and kernel, given dy [B, Ho, Wo, F]."""
    k = kernel.shape[0]
    dkernel = np.tensordot(patches(x, k), dy, axes=([0, 1, 2], [0, 1, 2]))  # [k, k, Cin, F]
    dpatch = np.tensordot(dy, kernel, axes=([3], [3]))  # [B, Ho, Wo, k, k, Cin]
    dx = np.zeros_like(x)
    ho, wo = dy.shape[1], dy.shape[2]
    for i in range(k):
        for j in range(k):
            dx[:, i : i + ho, j : j + wo, :] += dpatch[:, :, :, i, j, :]
    return dx, dkernel


def block(r, x, kernel, gamma, beta, n):
    """One conv -> VBN -> ReLU block for the reference r and the inputs x; returns the saved values."""
    w = np.float32(1.0 / (n + 1))
    yr, yx = conv(r, kernel), conv(x, kernel)
    mu_r = yr.mean(axis=(0, 1, 2))  # [C]
    dr = yr - mu_r
    var_r = (dr * dr).mean(axis=(0, 1, 2))
    inv_r = 1 / np.sqrt(var_r + EPSILON)
    zr = dr * inv_r
    d = yx - mu_r
    m = d.mean(axis=(1, 2), keepdims=True)  # [B, 1, 1, C]
    var_x = w * (d * d).mean(axis=(1, 2), keepdims=True) + (1 - w) * var_r - (w * m) ** 2
    inv_x = 1 / np.sqrt(var_x + EPSILON)
    u = d - w * m
    zx = u * inv_x
    out_r, out_x = gamma * zr + beta, gamma * zx + beta
    return dict(r=r, x=x, w=w, dr=dr, inv_r=inv_r, zr=zr, d=d, m=m, inv_x=inv_x, u=u, zx=zx,
                out_r=out_r, out_x=out_x, next_r=np.maximum(out_r, 0), next_x=np.maximum(out_x, 0))


def block_backward(s, kernel, gamma, g_r, g_x):
    """Gradients w.r.t. the block's inputs (r, x), kernel, gamma and beta, given those of its outputs."""
    g_out_r, g_out_x = g_r * (s["out_r"] > 0), g_x * (s["out_x"] > 0)
    dgamma = (g_out_r * s["zr"]).sum(axis=(0, 1, 2)) + (g_out_x * s["zx"]).sum(axis=(0, 1, 2))
    dbeta = g_out_r.sum(axis=(0, 1, 2)) + g_out_x.sum(axis=(0, 1, 2))
    g_zr, g_zx = g_out_r * gamma, g_out_x * gamma
    w, d, m, u, inv_x = s["w"], s["d"], s["m"], s["u"], s["inv_x"]
    hw = d.shape[1] * d.shape[2]
    # inputs: zx = u * inv_x, u = d - w m, var_x = w q + (1-w) var_r - w^2 m^2, q = mean(d^2)
    g_var_x = (g_zx * u).sum(axis=(1, 2), keepdims=True) * (-0.5) * inv_x**3
    g_u = g_zx * inv_x
    g_m = -w * g_u.sum(axis=(1, 2), keepdims=True) - 2 * w * w * m * g_var_x
    g_d = g_u + g_m / hw + (w * g_var_x) * 2 * d / hw
    g_var_r = ((1 - w) * g_var_x).sum(axis=(0, 1, 2))
    g_mu_r = -g_d.sum(axis=(0, 1, 2))
    # reference: zr = dr * inv_r, dr = yr - mu_r, var_r = mean(dr^2), mu_r = mean(yr)
    dr, inv_r = s["dr"], s["inv_r"]
    count = dr.shape[0] * dr.shape[1] * dr.shape[2]
    g_var_r = g_var_r + (g_zr * dr).sum(axis=(0, 1, 2)) * (-0.5) * inv_r**3
    g_dr = g_zr * inv_r + g_var_r * 2 * dr / count
    g_mu_r = g_mu_r - g_dr.sum(axis=(0, 1, 2))
    g_yr = g_dr + g_mu_r / count
    g_r_in, dk_r = conv_backward(s["r"], kernel, g_yr)
    g_x_in, dk_x = conv_backward(s["x"], kernel, g_d)
    return g_r_in, g_x_in, dk_r + dk_x, dgamma, dbeta


def blocks(params):
    i = 0
    while f"conv{i}/kernel" in params:
        yield i, params[f"conv{i}/kernel"], params[f"vbn{i}/gamma"], params[f"vbn{i}/beta"]
        i += 1


def forward(params, reference, inputs):
    n = reference.shape[0]
    saved, r, x = [], reference, inputs
    for _, kernel, gamma, beta in blocks(params):
        s = block(r, x, kernel, gamma, beta, n)
        saved.append(s)
        r, x = s["next_r"], s["next_x"]
    pooled = x.mean(axis=(1, 2))  # [B, F]
    return pooled @ params["dense/kernel"] + params["dense/bias"], saved, pooled


def apply(params, reference, inputs):
    logits, saved, _ = forward(params, reference, inputs)
    return {"logits": logits, "activations": {f"block{i}": s["next_x"] for i, s in enumerate(saved)}}


def vjp(params, reference, inputs, dlogits):
    _, saved, pooled = forward(params, reference, inputs)
    grads = {"dense/kernel": pooled.T @ dlogits, "dense/bias": dlogits.sum(axis=0)}
    x = saved[-1]["next_x"]
    g_x = np.broadcast_to((dlogits @ params["dense/kernel"].T)[:, None, None, :] / (x.shape[1] * x.shape[2]), x.shape)
    g_r = np.zeros_like(saved[-1]["next_r"])  # the reference's own outputs never reach the logits
    for i, kernel, gamma, _ in reversed(list(blocks(params))):
        g_r, g_x, grads[f"conv{i}/kernel"], grads[f"vbn{i}/gamma"], grads[f"vbn{i}/beta"] = block_backward(
            saved[i], kernel, gamma, g_r, g_x
        )
    grads["reference"] = g_r
    return grads
