#!/bin/bash
# gpu_check.sh: everything a machine with an NVIDIA GPU has to show, in one command: builds
# with the CUDA backend (into build-gpu/, or $UNSHARP_BUILD), runs the parity suite (CTest
# label gpu), then bench/train_speed on the CPU (all cores) and on CUDA with --layers (the
# cuBLAS sgemm rate and each conv layer's share of it), and prints the figures that
# docs/BENCHMARKS.md asks for.
# usage: bench/gpu_check.sh [train_speed ARGS...]   (default: unsharp-v1, 16 crops of 256x256)
# Exits 1 when the parity suite fails or is skipped (no usable device), 2 on a build error.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${UNSHARP_BUILD:-build-gpu}
command -v nvcc >/dev/null || { echo "gpu_check: nvcc is not on the PATH" >&2; exit 2; }
nvidia-smi -L 2>/dev/null || echo "gpu_check: nvidia-smi is not available"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUNSHARP_CUDA=ON >/dev/null || exit 2
cmake --build "$BUILD" -j"$(nproc)" >/dev/null || exit 2

echo "== parity suite (ctest -L gpu)"
out=$(cd "$BUILD" && ctest -L gpu --output-on-failure 2>&1) || { echo "$out"; exit 1; }
echo "$out"
if grep -q "Skipped\|Not Run" <<<"$out"; then echo "gpu_check: the parity suite was skipped: no usable CUDA device" >&2; exit 1; fi

echo "== train_speed on the CPU ($(nproc) threads)"
"$BUILD/bench/train_speed" --device cpu --threads "$(nproc)" --steps 5 "$@"
echo "== train_speed on CUDA, with the sgemm rate and the conv layers"
"$BUILD/bench/train_speed" --device cuda --steps 50 --layers "$@"
