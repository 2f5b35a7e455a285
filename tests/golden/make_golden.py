#!/usr/bin/env python3
"""Writes tests/golden/nn_golden.json: a PyTorch reference run of a tiny model that uses every
nn/ layer, both mixture losses (plain and censored binned likelihood, exact NLL) and a softmax
head with cross-entropy, plus 5 Adam steps with StepLR. tests/nn/test_golden.cpp replays it.

Run OFFLINE by a developer (never by the build or CI), in any environment with PyTorch:

    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy
    /tmp/torchenv/bin/python tests/golden/make_golden.py            # writes the file
    /tmp/torchenv/bin/python tests/golden/make_golden.py --check    # regenerates in memory and
                                                                     # compares with the file

Weights and inputs are drawn in float32 (so the C++ float32 copy is exact) and every reference
value is computed in float64. The loss definitions mirror nn/mixture.cpp; see README.md here.
"""
import argparse
import json
import math
import os
import sys

import mpmath
import torch
import torch.nn as tnn
import torch.nn.functional as F

SEED = 20240611
N, C_IN, H, W = 8, 1, 6, 8
CONV_CH, FEAT, K, CLASSES = 4, 16, 3, 5
HALF_WIDTH = 1.0 / 400  # the model's bin half-width
SIGMA_FLOOR = HALF_WIDTH / 2
LOW_EDGE, HIGH_EDGE = 0.0, 1.0
BN_EPS, BN_MOMENTUM = 1e-5, 0.1
LR_MIX, LR_CLS, WD_CLS = 1e-3, 1e-2, 1e-2
STEP_SIZE, GAMMA, STEPS = 2, 0.9, 5
LN2 = math.log(2.0)


# ---- the model (module and parameter names match the C++ test's GoldenNet) ----------------
class MixtureHead(tnn.Module):
    def __init__(self, f, k):
        super().__init__()
        self.pi = tnn.Sequential(tnn.Linear(f, f), tnn.ELU(), tnn.Linear(f, k))
        self.musig = tnn.Sequential(tnn.Linear(f, f), tnn.ELU(), tnn.Linear(f, 2 * k))

    def forward(self, x):  # (N, 3K) = [logits | mu | log_sigma]
        return torch.cat([self.pi(x), self.musig(x)], 1)


class GoldenNet(tnn.Module):
    def __init__(self):
        super().__init__()
        # The conv has no bias: under batch norm its gradient is 0 up to rounding, and Adam
        # turns rounding noise into +-lr updates, which no two implementations share.
        # Conv2d with bias is checked by the conv cases below and by finite differences.
        self.encoder = tnn.Sequential(
            tnn.Conv2d(C_IN, CONV_CH, 3, padding=1, bias=False),
            tnn.BatchNorm2d(CONV_CH, eps=BN_EPS, momentum=BN_MOMENTUM),
            tnn.ReLU(),
            tnn.MaxPool2d(2),
            tnn.Flatten(),
            tnn.Linear(CONV_CH * (H // 2) * (W // 2), FEAT),
            tnn.ELU(),
        )
        self.mix = MixtureHead(FEAT, K)
        self.cls = tnn.Linear(FEAT, CLASSES)

    def forward(self, x):
        f = self.encoder(x)
        return f, self.mix(f), self.cls(f)


# ---- losses, as nn/mixture.cpp defines them ---------------------------------------------
def split(out):
    return out[:, :K], out[:, K:2 * K], out[:, 2 * K:]


def sigma(log_sigma):
    return SIGMA_FLOOR + torch.exp(log_sigma)


def mixture_nll(out, y):
    logits, mu, log_sigma = split(out)
    s = sigma(log_sigma)
    z = (y[:, None] - mu) / s
    log_n = -0.5 * z * z - torch.log(s) - 0.5 * math.log(2 * math.pi)
    return -torch.logsumexp(F.log_softmax(logits, 1) + log_n, 1).mean()


def log1mexp(d):  # log(1 - exp(d)), d <= 0
    return torch.where(d > -LN2, torch.log(-torch.expm1(torch.clamp(d, min=-LN2))),
                       torch.log1p(-torch.exp(torch.clamp(d, max=-LN2))))


def binned_nll(out, y, censor):
    logits, mu, log_sigma = split(out)
    s = sigma(log_sigma)
    yy = y[:, None]
    a = (yy - HALF_WIDTH - mu) / s
    b = (yy + HALF_WIDTH - mu) / s
    # log(Phi(b) - Phi(a)) = log Phi(hi) + log(1 - Phi(lo)/Phi(hi)), on the side where both
    # ends are <= 0 (Phi(b) - Phi(a) = Phi(-a) - Phi(-b)).
    flip = a > 0
    lo = torch.where(flip, -b, a)
    hi = torch.where(flip, -a, b)
    lp_hi = torch.special.log_ndtr(hi)
    log_bin = lp_hi + log1mexp(torch.special.log_ndtr(lo) - lp_hi)
    if censor:
        below = (yy - HALF_WIDTH <= LOW_EDGE).expand_as(log_bin)
        above = (yy + HALF_WIDTH >= HIGH_EDGE).expand_as(log_bin)
        log_bin = torch.where(below, torch.special.log_ndtr(b),
                              torch.where(above, torch.special.log_ndtr(-a), log_bin))
    return -torch.logsumexp(F.log_softmax(logits, 1) + log_bin, 1).mean()


def losses_of(mix_out, cls_out, y, labels):
    return {
        "mixture_nll": mixture_nll(mix_out, y),
        "binned_nll": binned_nll(mix_out, y, censor=False),
        "binned_censored_nll": binned_nll(mix_out, y, censor=True),
        "cross_entropy": F.cross_entropy(cls_out, labels),
    }


TRAIN_LOSS = ("binned_censored_nll", "cross_entropy")  # summed for backward and the Adam steps


# ---- serialisation ------------------------------------------------------------------------
def arr(t):
    t = t.detach().to(torch.float64) if t.is_floating_point() else t.detach()
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def named(module_items):
    return [{"name": n, **arr(t)} for n, t in module_items]


def mp_log1mexp(x):
    return float(mpmath.log(1 - mpmath.exp(mpmath.mpf(x))))


def mp_binned_nll(logits, mu, s, y, w, censor=False):
    """-log sum_k pi_k [Phi(b_k) - Phi(a_k)] for one row, in 60-digit arithmetic (censored:
    Phi(b_k) where y - w <= LOW_EDGE, 1 - Phi(a_k) where y + w >= HIGH_EDGE)."""
    mpmath.mp.dps = 60
    lse = mpmath.log(sum(mpmath.exp(mpmath.mpf(v)) for v in logits))
    total = mpmath.mpf(0)
    for lk, m, sk in zip(logits, mu, s):
        a = (mpmath.mpf(y) - w - m) / sk
        b = (mpmath.mpf(y) + w - m) / sk
        if censor and y - w <= LOW_EDGE:
            total += mpmath.exp(mpmath.mpf(lk) - lse) * mpmath.ncdf(b)
            continue
        if censor and y + w >= HIGH_EDGE:
            total += mpmath.exp(mpmath.mpf(lk) - lse) * mpmath.ncdf(-a)
            continue
        # Phi(b) - Phi(a) = Phi(-a) - Phi(-b): the lower side keeps all the digits.
        bin_mass = mpmath.ncdf(b) - mpmath.ncdf(a) if a <= 0 else mpmath.ncdf(-a) - mpmath.ncdf(-b)
        total += mpmath.exp(mpmath.mpf(lk) - lse) * bin_mass
    return float(-mpmath.log(total))


def model_case():
    torch.manual_seed(SEED)
    net = GoldenNet()  # float32 default init, seeded
    bn = net.encoder[1]
    with torch.no_grad():  # non-trivial affine parameters, so their gradients matter
        bn.weight.copy_(1 + 0.2 * torch.randn(CONV_CH))
        bn.bias.copy_(0.2 * torch.randn(CONV_CH))
    x = torch.randn(N, C_IN, H, W)
    y = torch.tensor([0.0, 0.001, 0.08, 0.31, 0.5, 0.77, 0.999, 1.0])  # both censored edges
    labels = torch.randint(0, CLASSES, (N,))
    out = {
        "weights": named(net.named_parameters()),
        "buffers_initial": named(net.named_buffers()),
        "input": arr(x),
        "y": y.double().tolist(),
        "labels": labels.tolist(),
    }

    net = net.double()  # reference arithmetic in float64 (the float32 values are exact)
    x64 = x.double().requires_grad_(True)
    y64 = y.double()
    names = [n for n, _ in net.named_parameters()]
    params = [p for _, p in net.named_parameters()]

    feats, mix_out, cls_out = net(x64)
    out["outputs"] = {"features": arr(feats), "mixture": arr(mix_out), "logits": arr(cls_out)}
    out["buffers_after_forward"] = named(net.named_buffers())
    losses = losses_of(mix_out, cls_out, y64, labels)
    losses["train"] = sum(losses[k] for k in TRAIN_LOSS)
    out["losses"] = {k: v.item() for k, v in losses.items()}
    # The binned losses above mirror nn/mixture.cpp's stable formulation; check them against
    # a direct 60-digit evaluation of the definition.
    rows = mix_out.detach().tolist()
    for censor, lname in ((False, "binned_nll"), (True, "binned_censored_nll")):
        ref = sum(mp_binned_nll(r[:K], r[K:2 * K], [SIGMA_FLOOR + mpmath.exp(v) for v in r[2 * K:]],
                                yv, HALF_WIDTH, censor) for r, yv in zip(rows, y.tolist())) / N
        rel = abs(ref - out["losses"][lname]) / abs(ref)
        assert rel < 1e-12, f"{lname}: torch {out['losses'][lname]} vs 60-digit {ref} ({rel:.3g})"
    out["grads"] = {}
    for lname, loss in losses.items():
        gs = torch.autograd.grad(loss, params + [x64], retain_graph=True, allow_unused=True)
        out["grads"][lname] = [
            {"name": n, **arr(g if g is not None else torch.zeros_like(p))}
            for n, p, g in zip(names + ["input"], params + [x64], gs)]
    out["head_grads"] = {}  # d loss / d mixture output (N, 3K), per mixture loss
    for lname in ("mixture_nll", "binned_nll", "binned_censored_nll"):
        (g,) = torch.autograd.grad(losses[lname], mix_out, retain_graph=True)
        out["head_grads"][lname] = arr(g)

    # STEPS training steps (the first one's forward is the one above), two optimizers:
    # encoder + mixture head at LR_MIX, the softmax head at LR_CLS with weight decay.
    opt_mix = torch.optim.Adam([p for n, p in net.named_parameters() if not n.startswith("cls.")],
                               lr=LR_MIX)
    opt_cls = torch.optim.Adam([p for n, p in net.named_parameters() if n.startswith("cls.")],
                               lr=LR_CLS, weight_decay=WD_CLS)
    sched_mix = torch.optim.lr_scheduler.StepLR(opt_mix, step_size=STEP_SIZE, gamma=GAMMA)
    sched_cls = torch.optim.lr_scheduler.StepLR(opt_cls, step_size=STEP_SIZE, gamma=GAMMA)
    train_losses, lrs = [], []
    loss = losses["train"]
    for step in range(STEPS):
        if step > 0:
            _, mix_out, cls_out = net(x64)
            ls = losses_of(mix_out, cls_out, y64, labels)
            loss = sum(ls[k] for k in TRAIN_LOSS)
        train_losses.append(loss.item())
        lrs.append([opt_mix.param_groups[0]["lr"], opt_cls.param_groups[0]["lr"]])
        opt_mix.zero_grad()
        opt_cls.zero_grad()
        loss.backward()
        opt_mix.step()
        opt_cls.step()
        sched_mix.step()
        sched_cls.step()
    with torch.no_grad():
        final_buffers = named(net.named_buffers())  # after STEPS training forwards
        net.eval()
        _, mix_eval, cls_eval = net(x64)
    out["train"] = {
        "losses": train_losses, "lrs": lrs,
        "final_params": named(net.named_parameters()), "final_buffers": final_buffers,
        "eval_mixture": arr(mix_eval), "eval_logits": arr(cls_eval),
    }
    return out


def conv_pool_cases():
    """conv2d (with bias; stride/padding variants) and max_pool2d, forward and the gradients of
    sum(out * r), all in float64."""
    g = torch.Generator().manual_seed(SEED + 1)
    convs = []
    for (n, c, h, w, o, k, stride, pad) in [(2, 3, 7, 6, 4, 3, 1, 1), (2, 3, 7, 6, 4, 3, 2, 1),
                                            (1, 2, 5, 5, 3, 2, 1, 0), (2, 2, 6, 7, 2, 3, 3, 2)]:
        x = torch.randn(n, c, h, w, generator=g).float().double().requires_grad_(True)
        wt = (0.3 * torch.randn(o, c, k, k, generator=g)).float().double().requires_grad_(True)
        b = (0.3 * torch.randn(o, generator=g)).float().double().requires_grad_(True)
        y = F.conv2d(x, wt, b, stride=stride, padding=pad)
        r = torch.randn(y.shape, generator=g).float().double()
        gx, gw, gb = torch.autograd.grad((y * r).sum(), [x, wt, b])
        convs.append({"stride": stride, "padding": pad, "x": arr(x), "w": arr(wt), "b": arr(b),
                      "out": arr(y), "r": arr(r), "grad_x": arr(gx), "grad_w": arr(gw),
                      "grad_b": arr(gb)})
    pools = []
    for (n, c, h, w, k, stride) in [(2, 3, 7, 5, 2, 2), (1, 2, 7, 7, 3, 2), (2, 1, 4, 6, 2, 1)]:
        x = torch.randn(n, c, h, w, generator=g).float().double().requires_grad_(True)
        y = F.max_pool2d(x, k, stride)
        r = torch.randn(y.shape, generator=g).float().double()
        (gx,) = torch.autograd.grad((y * r).sum(), [x])
        pools.append({"kernel": k, "stride": stride, "x": arr(x), "out": arr(y), "r": arr(r),
                      "grad_x": arr(gx)})
    return convs, pools


def tail_cases():
    """Binned NLL (no censoring, no floor) for targets many sigmas away from every component,
    above and below, with 60-digit references."""
    mpmath.mp.dps = 60
    logits = [0.3, -0.2, 0.1]
    mu = [0.2, 0.5, 0.6]
    cases = []
    for sig, y, w in [(0.01, 0.75, HALF_WIDTH), (0.01, 0.05, HALF_WIDTH), (0.02, 0.98, HALF_WIDTH),
                      (0.001, 0.1, HALF_WIDTH), (0.005, 0.9, 0.01), (0.3, 0.45, HALF_WIDTH)]:
        log_sigma = math.log(sig)
        s = [mpmath.exp(mpmath.mpf(log_sigma))] * 3
        cases.append({"logits": logits, "mu": mu, "log_sigma": [log_sigma] * 3, "y": y,
                      "half_width": w, "nll": mp_binned_nll(logits, mu, s, y, w),
                      "sigmas_away": min(abs(y - m) for m in mu) / sig})
    return cases


def log1mexp_table():
    mpmath.mp.dps = 60
    xs = [-1e-20, -1e-12, -1e-7, -1e-3, -0.1, -0.5, -LN2 * (1 + 1e-9), -LN2, -LN2 * (1 - 1e-9),
          -0.7, -1.0, -3.0, -10.0, -20.0, -40.0, -100.0]
    return {"x": xs, "ref": [mp_log1mexp(x) for x in xs]}


def build():
    torch.use_deterministic_algorithms(True)
    golden = {
        "generator": "tests/golden/make_golden.py",
        "torch_version": torch.__version__,
        "seed": SEED,
        "reference_dtype": "float64",
        "config": {
            "N": N, "C_in": C_IN, "H": H, "W": W, "conv_channels": CONV_CH, "features": FEAT,
            "K": K, "classes": CLASSES, "half_width": HALF_WIDTH, "sigma_floor": SIGMA_FLOOR,
            "low_edge": LOW_EDGE, "high_edge": HIGH_EDGE, "bn_eps": BN_EPS,
            "bn_momentum": BN_MOMENTUM, "lr_mix": LR_MIX, "lr_cls": LR_CLS,
            "weight_decay_cls": WD_CLS, "step_size": STEP_SIZE, "gamma": GAMMA, "steps": STEPS,
            "train_loss": list(TRAIN_LOSS),
        },
    }
    golden.update(model_case())
    golden["conv_cases"], golden["pool_cases"] = conv_pool_cases()
    golden["tail_cases"] = tail_cases()
    golden["log1mexp"] = log1mexp_table()
    return golden


def max_rel_diff(a, b, path="", floor=1e-12):
    """Largest relative difference between two decoded golden trees (for --check)."""
    if isinstance(a, dict):
        return max([max_rel_diff(a[k], b[k], path + "/" + k) for k in a if k != "torch_version"]
                   + [(0.0, path)])
    if isinstance(a, list):
        return max([max_rel_diff(x, y, path) for x, y in zip(a, b)] + [(0.0, path)])
    if isinstance(a, float) and isinstance(b, (int, float)):
        return (abs(a - b) / max(abs(a), floor), path)
    return (0.0 if a == b else math.inf, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "nn_golden.json"))
    ap.add_argument("--check", action="store_true",
                    help="regenerate in memory and report the largest difference from --out")
    args = ap.parse_args()
    golden = build()
    if args.check:
        with open(args.out) as f:
            old = json.load(f)
        d, where = max_rel_diff(golden, old)
        where = where if d > 0 else "(identical)"
        print(f"largest relative difference from {args.out}: {d:.3g} at {where} "
              f"(file: torch {old.get('torch_version')}, now: torch {torch.__version__})")
        return 0 if d < 1e-9 else 1
    text = json.dumps(golden, separators=(",", ":"))
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        f.write(text + "\n")
    os.replace(tmp, args.out)
    print(f"wrote {args.out} ({len(text)} bytes, torch {torch.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
