#!/usr/bin/python3
"""train_flops.py: how much arithmetic one training sample costs, and what one core can do.

Counts the multiply-adds of a training step per sample for the network of an architecture
text (the same parser as the PyTorch reference, tests/torch/unsharp_torch.py): for every
convolution and dense layer the forward pass, the weight gradient, and the input gradient
(skipped for a layer that reads the network's input, which needs none). Elementwise passes,
pooling, losses and the optimiser are not counted: they are memory-bound, so the figure is a
floor of the work, not all of it.

Then measures, in the same run, what --threads T threads can do: the float32 matrix product of
two 2048 x 2048 matrices, through numpy (OpenBLAS) and through PyTorch, best of five, with the
BLAS and OpenMP thread counts set to T before either library loads (both may use OpenBLAS,
whose threads torch.set_num_threads does not govern). That is the practical ceiling of T cores
for dense arithmetic; convolutions with 1 to 48 channels reach a fraction of it.

With --rate R (samples/s at T threads), prints the GFLOP/s that rate means and its share of
the ceiling.

usage: /usr/bin/python3 bench/train_flops.py [--arch FILE] [--crop C] [--threads T] [--rate R ...]
"""
import argparse
import os
import sys
import time


def threads_from_argv(argv):
    """--threads T, read before numpy and torch load (their thread pools start with them)."""
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return "1"


_T = threads_from_argv(sys.argv)
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = _T

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "torch"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from unsharp_torch import UnsharpNet, kernel_keys  # noqa: E402


def training_macs(net, crop):
    """Multiply-adds of one training sample: forward, weight gradient, input gradient."""
    shapes = net.output_shapes(1, crop, crop)
    first = net.layers[0][1]
    chans = {first: net.in_channels}
    total = 0
    rows = []
    for kind, name, inputs, keys in net.layers:
        if kind == "conv":
            _, cout, oh, ow = shapes[name]
            cin = shapes[inputs[0]][1]
            kh, kw, _, _ = kernel_keys(keys, 3, 1)
            fwd = cout * oh * ow * cin * kh * kw
        elif kind == "dense":
            cout = shapes[name][1]
            cin = shapes[inputs[0]][1]
            fwd = cout * cin
        else:
            continue
        data = 0 if inputs[0] == first else fwd
        step = fwd + fwd + data
        rows.append((name, fwd, step))
        total += step
    return total, rows


def core_ceiling(threads):
    """GFLOP/s of a 2048^3 float32 matrix product on `threads` threads: numpy and PyTorch."""
    n = 2048
    flop = 2.0 * n ** 3
    a = np.random.default_rng(1).random((n, n), dtype=np.float32)
    b = a.copy()
    a @ b
    best_np = min(timed(lambda: a @ b) for _ in range(5))
    torch.set_num_threads(threads)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    torch.mm(ta, tb)
    best_t = min(timed(lambda: torch.mm(ta, tb)) for _ in range(5))
    return flop / best_np / 1e9, flop / best_t / 1e9


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", default=os.path.join(ROOT, "weights", "unsharp-v2.arch"))
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1, help="threads of the ceiling and the rates")
    ap.add_argument("--rate", type=float, action="append", default=[],
                    help="a training rate in samples/s to put beside the ceiling")
    args = ap.parse_args()
    with open(args.arch) as f:
        net = UnsharpNet(f.read())
    total, rows = training_macs(net, args.crop)
    print("train_flops: %s, crop %d" % (os.path.basename(args.arch), args.crop))
    for name, fwd, step in rows:
        print("  %-8s forward %10.0f  training step %10.0f multiply-adds" % (name, fwd, step))
    gflop = 2.0 * total / 1e9
    print("train_flops: %.1f M multiply-adds a sample (%.4f GFLOP)" % (total / 1e6, gflop))
    ceil_np, ceil_t = core_ceiling(args.threads)
    ceiling = max(ceil_np, ceil_t)
    t = args.threads
    print("train_flops: %d thread(s), 2048^3 sgemm: %.1f GFLOP/s (numpy/OpenBLAS), %.1f GFLOP/s"
          " (PyTorch)" % (t, ceil_np, ceil_t))
    for r in args.rate:
        print("train_flops: %d thread(s): %.1f samples/s = %.1f GFLOP/s = %.0f %% of the ceiling"
              % (t, r, r * gflop, 100.0 * r * gflop / ceiling))
    print("train_flops: %d thread(s): the ceiling allows at most %.0f samples/s (these multiply-adds"
          " alone, at full sgemm speed)" % (t, ceiling / gflop))
    return 0


if __name__ == "__main__":
    sys.exit(main())
