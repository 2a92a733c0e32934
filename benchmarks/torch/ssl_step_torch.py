#!/usr/bin/python3
"""PyTorch counterpart of umm4j's SslStepBenchmark, for the "umm4j vs PyTorch" comparison (benchmarks/README.md).

Written for umm4j (no code from torchvision, lightly or solo-learn). It builds the same network umm4j builds for
`SslStepBenchmark --base-width C` and times the same work:

* backbone: ResNet-18 with the CIFAR stem (3x3 conv stride 1, no max-pool), basic blocks [2, 2, 2, 2], stage widths
  C, 2C, 4C, 8C, strides 1, 2, 2, 2, 1x1-conv + BN projection shortcuts, bias-free convolutions, BN eps 1e-5
  momentum 0.1, global average pool -> 8C features;
* heads (umm4j's Heads scaled by --head-scale s): SimCLR projector 8C -> 2048s (BN, ReLU) -> 128s; BYOL projector
  8C -> 4096s (BN, ReLU) -> 256s and predictor 256s -> 4096s (BN, ReLU) -> 256s; hidden linear layers without
  bias (BN follows), output layers with bias;
* simclr: NT-Xent (temperature 0.5) over the 2N stacked views, one forward of the stacked batch, backward, one
  optimiser step;
* byol: online forward (backbone, projector, predictor) of the 2N stacked views, target (EMA copy of backbone +
  projector, training-mode BN, no grad) forward of the same batch, the symmetrised loss
  sum_n (2 - 2 cos(p1, t2)) + (2 - 2 cos(p2, t1)) / N, backward, optimiser step, EMA update (tau 0.99);
* forward: inference-mode (eval, no_grad) forward of the backbone alone to its pooled features.

Inputs are random normal 3x32x32 views (no augmentation, as in the Java benchmark). Prints a human-readable line
and a `RESULT impl=torch ...` line (median seconds per step, img/s = batch / median, peak RSS, parameter count with
BN running statistics, which is what DL4J's numParams counts).

Usage: /usr/bin/python3 ssl_step_torch.py --method simclr|byol|forward|simclr-phases --base-width 16 [--head-scale 0.25]
       [--batch 128] [--steps 3] [--warmup 1] [--threads 2] [--optimizer adam|sgd] [--lr 1e-3]
"""
import argparse
import copy
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    """relu(bn(conv3x3(relu(bn(conv3x3_s(x))))) + shortcut(x))"""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.proj is None else self.proj(x)))


class CifarResNet18(nn.Module):
    def __init__(self, base):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, base, 3, 1, 1, bias=False), nn.BatchNorm2d(base), nn.ReLU())
        layers, cin = [], base
        for s, w in enumerate([base, 2 * base, 4 * base, 8 * base]):
            for b in range(2):
                layers.append(Block(cin, w, 2 if (s > 0 and b == 0) else 1))
                cin = w
        self.blocks = nn.Sequential(*layers)
        self.features = cin

    def forward(self, x):
        return self.blocks(self.stem(x)).mean(dim=(2, 3))


def mlp(cin, hidden, cout):
    return nn.Sequential(nn.Linear(cin, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(),
                         nn.Linear(hidden, cout))


def scaled(n, s):
    return max(1, int(round(n * s)))


def nt_xent(z, n, temperature=0.5):
    z = F.normalize(z, dim=1)
    sim = z @ z.t() / temperature
    sim.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


def byol_loss(p, t, n):
    p = F.normalize(p, dim=1)
    t = F.normalize(t, dim=1)
    c1 = (p[:n] * t[n:]).sum(1)
    c2 = (p[n:] * t[:n]).sum(1)
    return (2 - 2 * c1).mean() + (2 - 2 * c2).mean()


def count(modules):
    """parameters + BN running mean/var (DL4J counts those as parameters), without num_batches_tracked"""
    total = 0
    for m in modules:
        total += sum(p.numel() for p in m.parameters())
        total += sum(b.numel() for name, b in m.named_buffers() if not name.endswith("num_batches_tracked"))
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", required=True, choices=["simclr", "byol", "forward", "simclr-phases"])
    ap.add_argument("--base-width", type=int, required=True)
    ap.add_argument("--head-scale", type=float, default=None)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--optimizer", default="adam", choices=["adam", "sgd"])
    ap.add_argument("--lr", type=float, default=1e-3)
    a = ap.parse_args()
    s = a.head_scale if a.head_scale is not None else a.base_width / 64.0
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    n = a.batch
    backbone = CifarResNet18(a.base_width)
    feat = backbone.features
    heads_desc = "features %d" % feat
    gen = torch.Generator().manual_seed(7)
    v1 = torch.randn(n, 3, 32, 32, generator=gen)
    v2 = torch.randn(n, 3, 32, 32, generator=gen)
    x = torch.cat([v1, v2])

    phases = None
    if a.method == "simclr-phases":
        # the SimCLR step with each phase timed, as the Java benchmark's simclr-phases row
        proj = mlp(feat, scaled(2048, s), scaled(128, s))
        online = nn.Sequential(backbone, proj)
        heads_desc = "projector %d-%d-%d" % (feat, scaled(2048, s), scaled(128, s))
        params = count([online])
        online.train()
        opt = torch.optim.Adam(online.parameters(), lr=a.lr)
        phases = {k: [] for k in ("forward (train)", "loss", "backward", "updater")}

        def step():
            t = [time.perf_counter()]
            opt.zero_grad(set_to_none=True)
            z = online(x)
            t.append(time.perf_counter())
            loss = nt_xent(z, n)
            t.append(time.perf_counter())
            loss.backward()
            t.append(time.perf_counter())
            opt.step()
            t.append(time.perf_counter())
            for k, (t0, t1) in zip(phases, zip(t, t[1:])):
                phases[k].append(t1 - t0)
    elif a.method == "forward":
        backbone.eval()
        params = count([backbone])

        def step():
            with torch.no_grad():
                f = backbone(v1)
            assert torch.isfinite(f.sum())
    else:
        if a.method == "simclr":
            proj = mlp(feat, scaled(2048, s), scaled(128, s))
            online = nn.Sequential(backbone, proj)
            heads_desc = "projector %d-%d-%d" % (feat, scaled(2048, s), scaled(128, s))
        else:
            proj = mlp(feat, scaled(4096, s), scaled(256, s))
            pred = mlp(scaled(256, s), scaled(4096, s), scaled(256, s))
            online = nn.Sequential(backbone, proj, pred)
            target = copy.deepcopy(nn.Sequential(backbone, proj))
            for p in target.parameters():
                p.requires_grad_(False)
            heads_desc = "predictor %d-%d-%d, projector %d-%d-%d" % (
                scaled(256, s), scaled(4096, s), scaled(256, s), feat, scaled(4096, s), scaled(256, s))
        params = count([online])
        online.train()
        opt = (torch.optim.Adam(online.parameters(), lr=a.lr) if a.optimizer == "adam"
               else torch.optim.SGD(online.parameters(), lr=a.lr, momentum=0.9))

        def step():
            opt.zero_grad(set_to_none=True)
            if a.method == "simclr":
                loss = nt_xent(online(x), n)
            else:
                p = online(x)
                with torch.no_grad():
                    t = target(x)
                loss = byol_loss(p, t, n)
            loss.backward()
            opt.step()
            if a.method == "byol":
                with torch.no_grad():
                    for pt, po in zip(target.parameters(), online[:2].parameters()):
                        pt.mul_(0.99).add_(po, alpha=0.01)
                    for bt, bo in zip(target.buffers(), online[:2].buffers()):
                        if bt.is_floating_point():  # umm4j averages BN running statistics too
                            bt.mul_(0.99).add_(bo, alpha=0.01)
            assert torch.isfinite(loss)

    times, cpus = [], []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        c0 = time.process_time()  # CPU seconds of the whole process, all threads
        step()
        if i >= a.warmup:
            times.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
    # upper median for an even count, as the Java benchmark (sorted[len / 2])
    med = sorted(times)[len(times) // 2]
    cpu = sorted(cpus)[len(cpus) // 2]
    if phases:
        total = sum(sorted(v[a.warmup:])[len(v[a.warmup:]) // 2] for v in phases.values())
        for k, v in phases.items():
            m = sorted(v[a.warmup:])[len(v[a.warmup:]) // 2]
            print("    phase %-22s %8.3f s %5.1f %%" % (k, m, 100 * m / total))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    print("torch %s %s, threads %d, %s base %d head scale %g batch %d: median %.3f s, %.1f img/s, cpu %.2f s, peak rss %.0f MB, "
          "params %d (%s)" % (torch.__version__, a.method, torch.get_num_threads(), a.optimizer, a.base_width, s, n,
                              med, n / med, cpu, rss_mb, params, heads_desc))
    print("RESULT impl=torch method=%s base_width=%d head_scale=%g batch=%d median_s=%.4f img_s=%.2f cpu_s=%.3f "
          "rss_peak_mb=%.0f params=%d" % (a.method, a.base_width, s, n, med, n / med, cpu, rss_mb, params))


if __name__ == "__main__":
    main()
