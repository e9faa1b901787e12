#!/usr/bin/python3
"""Builds tests/fixtures/torch_small.usfx: a PyTorch reference for the unsharp engine.

The network is described by the architecture text ARCH below (docs/architecture-format.md) and
is evaluated by the interpreter of that text in unsharp_torch.py (shared with
bench/train_speed.py), so the reference and the text written into the fixture cannot drift
apart. Everything is computed in float64 from float32-rounded
parameters and inputs, and saved as float32.

Contents: the architecture, the input, every parameter, every non-loss layer output, the loss
targets and weights, the total loss, every parameter gradient, and the parameters after two
AdamW steps and after two SGD steps (each step: zero_grad, forward, backward, step).

File format (little-endian):
  b"USFX0001"; u32 arch_len; arch bytes (UTF-8); u32 count;
  count x { u32 name_len; name bytes; u32 ndim; u32 dims[ndim]; float32 data[prod(dims)] }

Usage: /usr/bin/python3 tests/torch/make_fixture.py [OUTPUT]
       (default OUTPUT: tests/fixtures/torch_small.usfx under the repository root)
Needs Debian's python3-torch.
"""
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unsharp_torch import LOSS_KINDS, forward, param_specs, parse_arch  # noqa: E402

ARCH = """\
# Reference network for tests/test_torch_fixture.c (made by tests/torch/make_fixture.py).
input x 3
conv c1 x out=6 k=3 s=2 p=1
lrelu a1 c1 slope=0.1
conv c2 a1 out=8 k=3 s=1 p=1
relu r2 c2
maxpool mp r2 k=2 s=2
avgpool ap r2 k=3 s=2 p=1
concat cat mp,ap
conv c3 cat out=8 k=1
bias b3 c3
lrelu a3 b3 slope=0.2
conv tile a3 out=1 k=1
sigmoid_ce tile_loss tile
gmean gm a3
gmax gx a3
gvar gv a3
concat feat gm,gx,gv
dense d1 feat out=12
relu r4 d1
dense d2 r4 out=3
softmax_ce img_loss d2 weight=0.5
"""

N, C_IN, H, W = 2, 3, 32, 32
SEED = 37  # picked so that no d1 unit is dead (relu zero) for both samples
LR = 1e-2
WEIGHT_DECAY = 0.01
OPT_STEPS = 2


def make_data(layers, dtype):
    """Random parameters, input and targets, rounded to float32 then cast to dtype."""
    g = torch.Generator().manual_seed(SEED)

    def rnd(*shape, scale=1.0):
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).float()

    params = {}
    for pname, shape in param_specs(layers):
        scale = 0.3 if pname.endswith(".weight") else 0.1
        params[pname] = rnd(*shape, scale=scale)
    x = rnd(N, C_IN, H, W)
    # Targets: shapes follow the loss layers' inputs, known after one shape-only pass.
    with torch.no_grad():
        outs, _ = forward(layers, {k: v.double() for k, v in params.items()}, x.double(), {})
    targets = {}
    for kind, name, inputs, keys in layers:
        if kind == "sigmoid_ce":
            shape = outs[inputs[0]].shape
            t = torch.rand(*shape, generator=g, dtype=torch.float64).float()
            w = torch.rand(*shape, generator=g, dtype=torch.float64).float()
            targets[name] = (t, w)
        elif kind == "softmax_ce":
            n, c, h, w_ = outs[inputs[0]].shape
            t = torch.randint(0, c, (n, h, w_), generator=g).float()
            w = (0.5 + torch.rand(n, h, w_, generator=g, dtype=torch.float64)).float()
            targets[name] = (t, w)
    cast = lambda v: v.to(dtype)
    return ({k: cast(v) for k, v in params.items()}, cast(x),
            {k: (cast(t), cast(w)) for k, (t, w) in targets.items()})


def run_all(layers, dtype):
    """Everything the fixture holds, computed in dtype."""
    params, x, targets = make_data(layers, dtype)
    names = [n for n, _ in param_specs(layers)]
    leaf = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    outs, loss = forward(layers, leaf, x, targets)
    loss.backward()
    res = {
        "params": params, "x": x, "targets": targets,
        "outs": {k: v.detach() for k, v in outs.items()},
        "loss": loss.detach(),
        "grads": {k: leaf[k].grad.detach().clone() for k in names},
    }
    for tag, make_opt in (
        ("adamw2", lambda ps: torch.optim.AdamW(ps, lr=LR, betas=(0.9, 0.999), eps=1e-8,
                                                weight_decay=WEIGHT_DECAY)),
        ("sgd2", lambda ps: torch.optim.SGD(ps, lr=LR, momentum=0.9, weight_decay=WEIGHT_DECAY)),
    ):
        p = {k: v.clone().requires_grad_(True) for k, v in params.items()}
        opt = make_opt([p[k] for k in names])
        for _ in range(OPT_STEPS):
            opt.zero_grad()
            _, l = forward(layers, p, x, targets)
            l.backward()
            opt.step()
        res[tag] = {k: p[k].detach().clone() for k in names}
    return res


def rel_err(a, b):
    a = a.double()
    b = b.double()
    m = b.abs().max().item()
    return (a - b).abs().max().item() / (m if m > 0 else 1.0)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests", "fixtures",
                                                                 "torch_small.usfx")
    torch.manual_seed(SEED)
    layers = parse_arch(ARCH)
    names = [n for n, _ in param_specs(layers)]
    ref = run_all(layers, torch.float64)

    entries = []  # (name, dims, flat float32 tensor)

    def add(name, t, dims=None):
        t = t.detach().to(torch.float32).contiguous()
        entries.append((name, tuple(dims if dims is not None else t.shape), t.flatten()))

    add("input", ref["x"])
    for k in names:
        add("param:" + k, ref["params"][k])
    for kind, name, inputs, keys in layers:
        if kind in LOSS_KINDS or kind == "input":
            continue
        add("out:" + name, ref["outs"][name])  # always 4-D (N, C, H, W)
    for kind, name, inputs, keys in layers:
        if kind in LOSS_KINDS:
            t, w = ref["targets"][name]
            add("target:" + name, t)
            add("weight:" + name, w)
    add("loss", ref["loss"].view(1))
    for tag in ("grad", "adamw2", "sgd2"):
        src = ref["grads"] if tag == "grad" else ref[tag]
        for k in names:
            add(tag + ":" + k, src[k])

    blob = bytearray(b"USFX0001")
    arch = ARCH.encode("utf-8")
    blob += struct.pack("<I", len(arch)) + arch
    blob += struct.pack("<I", len(entries))
    for name, dims, t in entries:
        nb = name.encode("utf-8")
        blob += struct.pack("<I", len(nb)) + nb
        blob += struct.pack("<I", len(dims)) + struct.pack("<%dI" % len(dims), *dims)
        n = 1
        for d in dims:
            n *= d
        assert n == t.numel(), name
        blob += struct.pack("<%df" % n, *t.tolist())
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
    os.replace(tmp, out_path)

    # Sanity: a float32 run of the same computation must sit well inside the C test's
    # tolerances (1e-4 outputs and loss, 1e-3 gradients and optimiser steps, relative to the
    # largest magnitude); otherwise the fixture is too sensitive for a float32 engine.
    f32 = run_all(layers, torch.float32)
    # The C test also compares each optimiser's change (after - before) relative to the
    # largest change, which is much smaller than the parameters themselves.
    worst = {"out": 0.0, "loss": 0.0, "grad": 0.0, "adamw2": 0.0, "sgd2": 0.0,
             "adamw2-delta": 0.0, "sgd2-delta": 0.0}
    for k in ref["outs"]:
        worst["out"] = max(worst["out"], rel_err(f32["outs"][k], ref["outs"][k]))
    worst["loss"] = rel_err(f32["loss"].view(1), ref["loss"].view(1))
    for tag, key in (("grad", "grads"), ("adamw2", "adamw2"), ("sgd2", "sgd2")):
        for k in names:
            worst[tag] = max(worst[tag], rel_err(f32[key][k], ref[key][k]))
            if tag != "grad":
                # as the C test does it: float32 fixture values, float32 engine results
                p0 = ref["params"][k].float().double()
                want = ref[key][k].float().double() - p0
                got = f32[key][k].float().double() - p0
                worst[tag + "-delta"] = max(worst[tag + "-delta"], rel_err(got, want))
    # Exact zeros are harmless for Adam (0/(0+eps) = 0 in any precision); tiny non-zero
    # gradients near eps are not.
    allg = torch.cat([ref["grads"][k].abs().flatten() for k in names])
    zeros = int((allg == 0).sum().item())
    min_grad = allg[allg > 0].min().item()

    print("wrote %s (%d bytes, %d entries)" % (out_path, len(blob), len(entries)))
    for name, dims, t in entries:
        print("  %-22s %-16s max|x| %.4g" % (name, "x".join(map(str, dims)),
                                             t.abs().max().item()))
    print("loss %.8f" % ref["loss"].item())
    print("float32-vs-float64 relative errors: " +
          ", ".join("%s %.2e" % (k, v) for k, v in worst.items()))
    print("smallest non-zero |gradient| element: %.3g (Adam eps 1e-8); %d exact zeros"
          % (min_grad, zeros))
    limits = {"out": 1e-5, "loss": 1e-5, "grad": 1e-4, "adamw2": 1e-5, "sgd2": 1e-5,
              "adamw2-delta": 1e-4, "sgd2-delta": 1e-4}
    bad = [k for k in worst if not worst[k] < limits[k]]
    if bad:
        print("WARNING: float32 reproduction is too far from float64 for: " + ", ".join(bad))
        return 1
    if min_grad < 1e-6:
        print("WARNING: a gradient element is near Adam's eps; the AdamW check is fragile")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
