#!/usr/bin/python3
"""train_speed.py: training throughput of the PyTorch reference, in samples per second.

The same measurement as bench/train_speed.c, on the same network built from the same
architecture text by tests/torch/unsharp_torch.py: float32 on the CPU or on CUDA (--device
cuda: TF32 off in matrix products and cuDNN; cuDNN's own benchmark-based algorithm choice
with --cudnn-benchmark, its heuristics otherwise), a batch of random luma
crops in [0, 1), random targets (0/1 for sigmoid_ce layers, class indices for softmax_ce
layers, all weights 1), Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8, no weight decay). One step:
zero_grad, forward with the loss, backward, step. Two warm-up steps, then N steps are timed,
or as many as fit in S seconds with --seconds (at least one).

On CUDA the batch stays on the device, as PyTorch users keep it; --host-batch copies it from
host memory every step instead, as the C engine's API (host tensors in) does, so that both
figures can be put beside the engine's.

usage: /usr/bin/python3 bench/train_speed.py [--arch FILE] [--threads T] [--batch B]
           [--crop C] [--steps N] [--seconds S] [--seed S] [--device cpu|cuda]
           [--cudnn-benchmark] [--host-batch]
Threads: torch.set_num_threads(T) and torch.set_num_interop_threads(1).
Needs Debian's python3-torch (/usr/bin/python3).
"""
import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "torch"))

import torch  # noqa: E402

from unsharp_torch import UnsharpNet  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", default=os.path.join(ROOT, "weights", "unsharp-v2.arch"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--cudnn-benchmark", action="store_true")
    ap.add_argument("--host-batch", action="store_true")
    args = ap.parse_args()
    if args.threads < 1 or args.batch < 1 or args.crop < 1 or args.steps < 1:
        ap.error("threads, batch, crop and steps must be positive")
    warmup = 2

    torch.set_num_interop_threads(1)  # before any parallel work
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    with open(args.arch) as f:
        arch = f.read()
    net = UnsharpNet(arch, seed=args.seed, dtype=torch.float32)
    net.train()
    dev = torch.device(args.device)
    if args.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = args.cudnn_benchmark

    g = torch.Generator().manual_seed(args.seed)
    x = torch.rand(args.batch, net.in_channels, args.crop, args.crop, generator=g,
                   dtype=torch.float32)
    shapes = net.output_shapes(args.batch, args.crop, args.crop)
    for name, (kind, src) in net.loss_layers.items():
        n, c, h, w = shapes[src]
        if kind == "softmax_ce":
            t = torch.randint(0, c, (n * h * w,), generator=g).float()
        else:
            t = torch.randint(0, 2, (n * c * h * w,), generator=g).float()
        net.set_target(name, t.to(dev))
    net.to(dev)
    x_host = x
    x = x.to(dev)

    opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                           weight_decay=0.0)
    first_loss = loss = None
    timed = 0
    t0 = t1 = 0.0
    s = 0
    while True:
        if s == warmup:
            t0 = time.perf_counter()
        opt.zero_grad()
        if args.host_batch and args.device == "cuda":
            x = x_host.to(dev)
        _, l = net(x, training=True)
        l.backward()
        opt.step()
        loss = l.item()  # also a synchronisation point, as the C engine's step is
        if s == 0:
            first_loss = loss
        s += 1
        if s <= warmup:
            continue
        timed += 1
        t1 = time.perf_counter()
        if (t1 - t0 >= args.seconds) if args.seconds > 0 else (timed >= args.steps):
            break
    dt = t1 - t0
    where = "cpu"
    if args.device == "cuda":
        where = "cuda %s, cuDNN %s, no TF32, cudnn.benchmark %s, batch %s" % (
            torch.cuda.get_device_name(), torch.backends.cudnn.version(), args.cudnn_benchmark,
            "copied from the host every step" if args.host_batch else "resident on the device")
    print("train_speed: PyTorch %s (%s), %s, threads %d (interop 1), batch %d x %d x %dx%d"
          % (torch.__version__, where, args.arch, args.threads, args.batch, net.in_channels,
             args.crop, args.crop))
    print("loss %.5f after the first step, %.5f after the last" % (first_loss, loss))
    print("%d steps in %.3f s: %.2f samples/s, %.2f ms/step"
          % (timed, dt, args.batch * timed / dt, dt / timed * 1e3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
