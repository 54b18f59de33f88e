"""vbn's network in PyTorch, two passes: the reference alone first, keeping each layer's
statistics, then the inputs through the same weights, normalized with the kept statistics.

Check it: npx vbn check --a examples/torch_concat.py --b examples/torch_two_pass.py --backends cpu
"""

import torch
import torch.nn.functional as F

FRAMEWORK = "torch"
LAYOUT = "torch"  # images [B, C, H, W], conv kernels [F, Cin, k, k], dense/kernel [classes, F]
EPSILON = 1e-5


def reference_statistics(r):
    """r [N, C, H, W] -> mean and biased variance per channel, [1, C, 1, 1] each."""
    mu = r.mean(dim=(0, 2, 3), keepdim=True)
    return mu, ((r - mu) ** 2).mean(dim=(0, 2, 3), keepdim=True)


def normalize(x, mu, var, gamma, beta, eps=EPSILON):
    return gamma.view(1, -1, 1, 1) * (x - mu) / torch.sqrt(var + eps) + beta.view(1, -1, 1, 1)


def virtual_statistics(x, n, mu_r, var_r):
    """Statistics of the reference plus each example of x [B, C, H, W] alone (weight 1/(N+1))."""
    w = 1.0 / (n + 1)
    d = x - mu_r
    m = d.mean(dim=(2, 3), keepdim=True)
    return mu_r + w * m, w * (d**2).mean(dim=(2, 3), keepdim=True) + (1 - w) * var_r - (w * m) ** 2


def apply(params, reference, inputs):
    n = reference.shape[0]
    r, x = reference, inputs
    activations = {}
    i = 0
    while f"conv{i}/kernel" in params:
        kernel, gamma, beta = params[f"conv{i}/kernel"], params[f"vbn{i}/gamma"], params[f"vbn{i}/beta"]
        yr, yx = F.conv2d(r, kernel), F.conv2d(x, kernel)
        mu_r, var_r = reference_statistics(yr)
        r = F.relu(normalize(yr, mu_r, var_r, gamma, beta))
        x = F.relu(normalize(yx, *virtual_statistics(yx, n, mu_r, var_r), gamma, beta))
        activations[f"block{i}"] = x
        i += 1
    logits = F.linear(x.mean(dim=(2, 3)), params["dense/kernel"], params["dense/bias"])
    return {"logits": logits, "activations": activations}
