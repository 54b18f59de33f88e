"""The seed-scale VBN training step in PyTorch, for `vbn bench` to compare against.

Same network as vbn's: conv (no bias) -> VBN -> ReLU blocks, global average pooling over the
input rows, dense logits; softmax cross-entropy; Adam. VBN as a PyTorch user would write it with
tensor ops: statistics of the reference rows, each input row mixed in with weight 1/(N+1)
('virtual') or not ('reference'). Prints one JSON line.

Usage: python3 torch_step.py '{"batchSize": 32, "referenceSize": 32, ...}'
"""
import json
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def report(step, steps, warmup, **extra):
    """Runs `step` warmup times, then times `steps` calls (wall and process CPU seconds) and prints
    the JSON line `vbn bench` reads, with `extra` fields."""
    for _ in range(warmup):
        step()
    times, cpu_times = [], []
    for _ in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    print(
        json.dumps(
            {
                "backend": "pytorch",
                "version": torch.__version__,
                "threads": torch.get_num_threads(),
                "best": min(times),
                "median": statistics.median(times),
                "times": times,
                "cpuTimes": cpu_times,
                "peakRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                **extra,
            }
        )
    )


def vbn(y, n, mode, gamma, beta, eps):
    """VBN of y = [reference; inputs] (NCHW) with the fewest temporaries plain torch ops allow."""
    ref, x = y[:n], y[n:]
    var, mu = torch.var_mean(ref, dim=(0, 2, 3), unbiased=False, keepdim=True)
    g = gamma.view(1, -1, 1, 1)
    b = beta.view(1, -1, 1, 1)
    out_ref = (ref - mu) * (torch.rsqrt(var + eps) * g) + b
    if mode == "virtual" and x.shape[0] > 0:
        w = 1.0 / (n + 1)
        v, dm = torch.var_mean(x - mu, dim=(2, 3), unbiased=False, keepdim=True)
        var_x = w * v + (1 - w) * var + (w * (1 - w)) * dm * dm
        out_x = (x - (mu + w * dm)) * (torch.rsqrt(var_x + eps) * g) + b
    else:
        out_x = (x - mu) * (torch.rsqrt(var + eps) * g) + b
    return torch.cat([out_ref, out_x], 0)


def main():
    cfg = json.loads(sys.argv[1])
    torch.manual_seed(0)
    b, n, s = cfg["batchSize"], cfg["referenceSize"], cfg["imageSize"]
    k, stride, pad = cfg["kernelSize"], cfg["strides"], cfg["padding"]
    filters, classes, mode = cfg["filters"], cfg.get("numClasses", 2), cfg["mode"]
    params = []
    cin = 1
    convs = []
    for f in filters:
        w = (torch.randn(f, cin, k, k) * (2.0 / (cin * k * k)) ** 0.5).requires_grad_()
        g = torch.ones(f, requires_grad=True)
        be = torch.zeros(f, requires_grad=True)
        convs.append((w, g, be))
        params += [w, g, be]
        cin = f
    dense = (torch.randn(cin, classes) * 0.1).requires_grad_()
    bias = torch.zeros(classes, requires_grad=True)
    params += [dense, bias]
    opt = torch.optim.Adam(params, lr=1e-3)
    ref = torch.randn(n, 1, s, s)
    x = torch.randn(b, 1, s, s)
    labels = torch.randint(0, classes, (b,))

    def step():
        opt.zero_grad()
        h = torch.cat([ref, x], 0)
        for w, g, be in convs:
            h = F.conv2d(h, w, stride=stride, padding=0 if pad == "valid" else k // 2)
            h = torch.relu_(vbn(h, n, mode, g, be, 1e-5))
        logits = h[n:].mean(dim=(2, 3)) @ dense + bias
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        opt.step()
        return float(loss)

    report(step, cfg["steps"], warmup=1)

if __name__ == "__main__":
    main()
