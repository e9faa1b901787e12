#!/bin/bash
# gemm_shapes.sh: OpenBLAS's AVX2 (Haswell) and AVX-512 (Cooper Lake) sgemm kernels side by
# side on the GEMM shapes that the training batch's convolutions lower to (conv_bench's
# "GEMM M×N×K" column, 16 crops of 256x256: c1-c6 forward), and on a 1024^3 product, one
# thread. The two kernels alternate, one process each (OPENBLAS_CORETYPE is read when OpenBLAS
# loads), ROUNDS times; the median GFLOP/s of each is printed. This is the measurement behind
# keeping OpenBLAS for the GEMMs rather than an AVX-512 micro-kernel of our own (docs/engine.md).
# usage: bench/gemm_shapes.sh   (env: ROUNDS, default 5; needs /usr/bin/python3 with numpy)
set -euo pipefail
ROUNDS=${ROUNDS:-5}
PY=/usr/bin/python3
"$PY" -c 'import numpy' 2>/dev/null || { echo "gemm_shapes: skipped: $PY has no numpy"; exit 0; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cat > "$T/g.py" <<'PY'
import os, time
os.environ["OPENBLAS_NUM_THREADS"] = "1"
import numpy as np
shapes = [(8, 4096, 36), (16, 1024, 72), (32, 256, 144), (48, 64, 288), (48, 64, 432), (1024, 1024, 1024)]
out = []
for m, n, k in shapes:
    a = np.random.rand(m, k).astype(np.float32); b = np.random.rand(k, n).astype(np.float32)
    c = np.empty((m, n), np.float32)
    reps = max(3, int(2e8 / (2 * m * n * k)))
    best = 1e9
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(reps): np.matmul(a, b, out=c)
        best = min(best, (time.perf_counter() - t0) / reps)
    out.append("%.1f" % (2 * m * n * k / best / 1e9))
print(" ".join(out))
PY
echo "gemm_shapes: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), flags: $(grep -o -w 'avx2\|avx512f\|avx512bw\|avx512vl\|fma' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "gemm_shapes: load average $(cut -d' ' -f1-3 /proc/loadavg), $ROUNDS rounds, 1 thread, GFLOP/s (median)"
for r in $(seq "$ROUNDS"); do
  for ct in Haswell Cooperlake; do echo "$ct $(OPENBLAS_CORETYPE=$ct "$PY" "$T/g.py")" >> "$T/all"; done
done
echo
echo "| OpenBLAS kernels | 8×4096×36 | 16×1024×72 | 32×256×144 | 48×64×288 | 48×64×432 | 1024³ |"
echo "|---|---|---|---|---|---|---|"
for ct in Haswell Cooperlake; do
  grep "^$ct " "$T/all" | "$PY" -c '
import sys, statistics
rows = [[float(x) for x in l.split()[1:]] for l in sys.stdin]
print("| " + sys.argv[1] + " | " + " | ".join("%.1f" % statistics.median(c) for c in zip(*rows)) + " |")' "$ct"
done
