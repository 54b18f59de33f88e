"""`vbn gan`'s default training step in PyTorch, for `vbn bench --gan` to compare against.

The same networks, sizes and updates as vbn's (src/gan): a generator dense 64 -> 7x7x64 then
stride-2 4x4 transposed convolutions to 32 and 16 channels, each followed by VBN ('virtual', 64
reference latents whose statistics get gradients too) and ReLU, the reference rows dropped, a
stride-1 4x4 convolution to 1 channel plus bias and tanh; a discriminator of stride-2 4x4
convolutions ('same' padding, no bias) to 32/64/128 channels with leaky ReLU 0.2, a logit head
and a 10-way code head (InfoGAN) that also classifies the real images (AC-GAN). One step: the
discriminator's update on G(z) (detached) and the real batch, then the generator's against the
updated discriminator. Adam with beta1 0.5: lr 1e-3 (generator), 5e-4 (discriminator).
Prints one JSON line.

Usage: python3 torch_gan_step.py '{"batchSize": 64, "referenceSize": 64, "steps": 10}'
"""
import json
import sys

import torch
import torch.nn.functional as F

from torch_step import report

LATENT, CODES = 64, 10


def vbn(y, n, gamma, beta, eps=1e-5):
    """Virtual batch normalization of y = [reference; inputs] (NCHW), as bench/torch_step.py."""
    ref, x = y[:n], y[n:]
    var, mu = torch.var_mean(ref, dim=(0, 2, 3), unbiased=False, keepdim=True)
    g = gamma.view(1, -1, 1, 1)
    b = beta.view(1, -1, 1, 1)
    out_ref = (ref - mu) * (torch.rsqrt(var + eps) * g) + b
    w = 1.0 / (n + 1)
    v, dm = torch.var_mean(x - mu, dim=(2, 3), unbiased=False, keepdim=True)
    var_x = w * v + (1 - w) * var + (w * (1 - w)) * dm * dm
    out_x = (x - (mu + w * dm)) * (torch.rsqrt(var_x + eps) * g) + b
    return torch.cat([out_ref, out_x], 0)


def param(*shape, scale=0.05):
    return (torch.randn(*shape) * scale).requires_grad_()


def main():
    cfg = json.loads(sys.argv[1])
    torch.manual_seed(0)
    b, n = cfg["batchSize"], cfg["referenceSize"]
    gf, df = [64, 32, 16], [32, 64, 128]
    g = {"dense": param(LATENT, 7 * 7 * gf[0])}
    for i, f in enumerate(gf):
        g[f"gamma{i}"] = torch.ones(f, requires_grad=True)
        g[f"beta{i}"] = torch.zeros(f, requires_grad=True)
        if i > 0:
            g[f"deconv{i}"] = param(gf[i - 1], f, 4, 4)
    g["out"] = param(1, gf[-1], 4, 4)
    g["outBias"] = torch.zeros(1, requires_grad=True)
    d = {}
    cin = 1
    for i, f in enumerate(df):
        d[f"conv{i}"] = param(f, cin, 4, 4)
        cin = f
    d["dense"], d["denseBias"] = param(4 * 4 * cin, 1), torch.zeros(1, requires_grad=True)
    d["code"], d["codeBias"] = param(4 * 4 * cin, CODES), torch.zeros(CODES, requires_grad=True)
    g_opt = torch.optim.Adam(g.values(), lr=1e-3, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(d.values(), lr=5e-4, betas=(0.5, 0.999))

    def latents(rows):
        z = torch.randn(rows, LATENT)
        z[:, -CODES:] = F.one_hot(torch.randint(0, CODES, (rows,)), CODES).float()
        return z

    ref_z, z = latents(n), latents(b)
    codes = z[:, -CODES:].argmax(1)
    real = torch.rand(b, 1, 28, 28) * 2 - 1
    labels = torch.randint(0, CODES, (b,))

    def generator():
        h = (torch.cat([ref_z, z], 0) @ g["dense"]).view(-1, gf[0], 7, 7)
        h = torch.relu(vbn(h, n, g["gamma0"], g["beta0"]))
        for i in range(1, len(gf)):
            h = F.conv_transpose2d(h, g[f"deconv{i}"], stride=2, padding=1)
            h = torch.relu(vbn(h, n, g[f"gamma{i}"], g[f"beta{i}"]))
        # TF's 'same' padding of a 4x4 stride-1 layer: 1 before, 2 after.
        out = F.conv2d(F.pad(h[n:], (1, 2, 1, 2)), g["out"]) + g["outBias"].view(1, -1, 1, 1)
        return torch.tanh(out)

    def discriminator(x):
        for i in range(len(df)):
            pad = (1, 2, 1, 2) if x.shape[-1] % 2 else (1, 1, 1, 1)  # TF's 'same' at stride 2
            x = F.leaky_relu(F.conv2d(F.pad(x, pad), d[f"conv{i}"], stride=2), 0.2)
        flat = x.flatten(1)
        return (flat @ d["dense"] + d["denseBias"]).view(-1), flat @ d["code"] + d["codeBias"]

    def step():
        fake = generator()
        d_opt.zero_grad()
        real_logits, real_codes = discriminator(real)
        fake_logits, fake_codes = discriminator(fake.detach())
        d_loss = (
            F.softplus(-real_logits).mean()
            + F.softplus(fake_logits).mean()
            + F.cross_entropy(fake_codes, codes)
            + F.cross_entropy(real_codes, labels)
        )
        d_loss.backward()
        d_opt.step()
        g_opt.zero_grad()
        logits, code_logits = discriminator(fake)
        g_loss = F.softplus(-logits).mean() + F.cross_entropy(code_logits, codes)
        g_loss.backward()
        g_opt.step()
        return float(d_loss), float(g_loss)

    report(
        step,
        cfg["steps"],
        warmup=cfg.get("warmup", 3),
        parameters={
            "generator": sum(p.numel() for p in g.values()),
            "discriminator": sum(p.numel() for p in d.values()),
        },
    )

if __name__ == "__main__":
    main()
