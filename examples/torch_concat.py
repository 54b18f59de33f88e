"""vbn's network in PyTorch, one pass: [reference; inputs] through every block as one batch.

Each VBN layer takes its statistics from the first N rows (N = the reference size, never the batch
size); the input rows are normalized with the virtual statistics of the reference plus themselves.
Check it: npx vbn check --a examples/torch_concat.py --backends cpu
"""

import torch
import torch.nn.functional as F

FRAMEWORK = "torch"
LAYOUT = "torch"  # images [B, C, H, W], conv kernels [F, Cin, k, k], dense/kernel [classes, F]
EPSILON = 1e-5


def vbn_concat(h, n, gamma, beta, eps=EPSILON):
    """h [N+B, C, H, W] -> [N+B, C, H, W]: batch norm of the reference rows, virtual for the rest."""
    ref, x = h[:n], h[n:]
    mu_r = ref.mean(dim=(0, 2, 3), keepdim=True)  # [1, C, 1, 1]
    var_r = ((ref - mu_r) ** 2).mean(dim=(0, 2, 3), keepdim=True)
    w = 1.0 / (n + 1)
    d = x - mu_r  # centred on the reference mean: no cancellation for large offsets
    m = d.mean(dim=(2, 3), keepdim=True)  # [B, C, 1, 1]
    var_x = w * (d**2).mean(dim=(2, 3), keepdim=True) + (1 - w) * var_r - (w * m) ** 2
    g, b = gamma.view(1, -1, 1, 1), beta.view(1, -1, 1, 1)
    out_r = g * (ref - mu_r) / torch.sqrt(var_r + eps) + b
    out_x = g * (d - w * m) / torch.sqrt(var_x + eps) + b
    return torch.cat([out_r, out_x], 0)


def apply(params, reference, inputs):
    n = reference.shape[0]
    h = torch.cat([reference, inputs], 0)
    activations = {}
    i = 0
    while f"conv{i}/kernel" in params:
        h = F.conv2d(h, params[f"conv{i}/kernel"])
        h = F.relu(vbn_concat(h, n, params[f"vbn{i}/gamma"], params[f"vbn{i}/beta"]))
        activations[f"block{i}"] = h[n:]
        i += 1
    logits = F.linear(h[n:].mean(dim=(2, 3)), params["dense/kernel"], params["dense/bias"])
    return {"logits": logits, "activations": activations}
