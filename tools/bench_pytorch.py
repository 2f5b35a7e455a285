#!/usr/bin/env python3
"""The PyTorch side of `bench_stan --pytorch`: trains the same attribute networks on the same
windows and prints windows/s, so the bench table shows stan and PyTorch side by side.

Run offline, with Debian's python3-torch (`apt-get install python3-torch`, PyTorch 1.13 on
OpenBLAS); PyTorch is never a build or test dependency. bench_stan writes the windows and the
architecture (DIR/arch.json, DIR/inputs.f32, DIR/targets.f32, DIR/valid.u8) and calls

    python3 tools/bench_pytorch.py DIR --threads N [--batches B]

which prints one line: `pytorch <windows/s> windows/s <seconds> s <windows> windows`.

The model is the one stan trains (stan/model/model.cpp), written the way the reference
implementation does it: one network and one Adam per attribute, each on its masked window and
on the rows where its attribute applies; Linear(I, H) + ELU + a head, or the head on the grid
when H = 0; softmax heads with cross-entropy, mixture heads (pi: Linear-ELU-Linear(K), mu and
log sigma: Linear-ELU-Linear(2K)) with the binned, censored mixture likelihood in log space.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def log_ndtr(x):
    return torch.special.log_ndtr(x)


def log1mexp(x):
    return torch.where(x > -math.log(2), torch.log(-torch.expm1(x)), torch.log1p(-torch.exp(x)))


def binned_nll(out, y, k, w, floor, censor):
    logits, mu, log_sigma = out[:, :k], out[:, k:2 * k], out[:, 2 * k:]
    s = floor + torch.exp(log_sigma)
    yy = y.unsqueeze(1)
    a = (yy - w - mu) / s
    b = (yy + w - mu) / s
    flip = a > 0
    lo = torch.where(flip, -b, a)
    hi = torch.where(flip, -a, b)
    lp_hi, lp_lo = log_ndtr(hi), log_ndtr(lo)
    d = torch.clamp(lp_lo - lp_hi, max=-1e-12)
    log_bin = lp_hi + log1mexp(d)
    if censor:
        below = (yy - w <= 0).expand_as(log_bin)
        above = (yy + w >= 1).expand_as(log_bin)
        log_bin = torch.where(below, log_ndtr(b), torch.where(above, log_ndtr(-a), log_bin))
    return -torch.logsumexp(F.log_softmax(logits, 1) + log_bin, 1).mean()


class Net(nn.Module):
    def __init__(self, inputs, hidden, spec, k):
        super().__init__()
        self.continuous = spec["continuous"]
        f = inputs
        self.hidden = nn.Linear(inputs, hidden) if hidden > 0 else None
        if hidden > 0:
            f = hidden
        if self.continuous:
            self.pi = nn.Sequential(nn.Linear(f, f), nn.ELU(), nn.Linear(f, k))
            self.musig = nn.Sequential(nn.Linear(f, f), nn.ELU(), nn.Linear(f, 2 * k))
        else:
            self.head = nn.Linear(f, spec["classes"])

    def forward(self, x):
        h = F.elu(self.hidden(x)) if self.hidden is not None else x
        if self.continuous:
            return torch.cat([self.pi(h), self.musig(h)], 1)
        return self.head(h)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batches", type=int, default=0, help="0: all in the files")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    arch = json.load(open(os.path.join(args.dir, "arch.json")))
    inputs, attrs, batch = arch["inputs"], len(arch["nets"]), arch["batch"]
    x_all = np.fromfile(os.path.join(args.dir, "inputs.f32"), dtype=np.float32).reshape(-1, batch, inputs)
    t_all = np.fromfile(os.path.join(args.dir, "targets.f32"), dtype=np.float32).reshape(-1, attrs, batch)
    v_all = np.fromfile(os.path.join(args.dir, "valid.u8"), dtype=np.uint8).reshape(-1, attrs, batch)
    nb = x_all.shape[0] if args.batches <= 0 else min(args.batches, x_all.shape[0])
    k = arch["k"]
    nets, opts, masks = [], [], []
    for spec in arch["nets"]:
        net = Net(inputs, arch["hidden"], spec, k)
        nets.append(net)
        lr = arch["lr_mixture"] if spec["continuous"] else arch["lr_softmax"]
        opts.append(torch.optim.Adam(net.parameters(), lr=lr))
        masks.append(torch.tensor(spec["mask"], dtype=torch.float32))
    xs = [torch.from_numpy(x_all[i]) for i in range(nb)]
    ts = [torch.from_numpy(t_all[i]) for i in range(nb)]
    vs = [torch.from_numpy(v_all[i].astype(np.bool_)) for i in range(nb)]
    # One warm-up batch, not timed.
    order = [0] + list(range(nb))
    t0 = None
    for step, i in enumerate(order):
        if step == 1:
            t0 = time.perf_counter()
        x = xs[i]
        for a, spec in enumerate(arch["nets"]):
            rows = vs[i][a]
            if int(rows.sum()) < 2:
                continue
            xa = x[rows] * masks[a]
            out = nets[a](xa)
            if spec["continuous"]:
                loss = binned_nll(out, ts[i][a][rows], k, arch["half_width"], arch["sigma_floor"], arch["censor"])
            else:
                loss = F.cross_entropy(out, ts[i][a][rows].long())
            opts[a].zero_grad()
            loss.backward()
            opts[a].step()
    seconds = time.perf_counter() - t0
    windows = nb * batch
    print("pytorch %.1f windows/s %.3f s %d windows (torch %s, %d threads)" %
          (windows / seconds, seconds, windows, torch.__version__, torch.get_num_threads()))


if __name__ == "__main__":
    sys.exit(main())
