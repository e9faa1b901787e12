#!/bin/bash
# gpu_check.sh: everything a machine with an NVIDIA GPU has to show (docs/BENCHMARKS.md, "GPU:
# CUDA backend"), in one command, sized to finish in under 5 minutes there:
#   the card, driver, CUDA and cuDNN versions; the parity suite (tests/test_parity.c);
#   bench/train_speed on the CPU (all cores) and on CUDA at batch 16 and 128 (no TF32), with
#   the cuBLAS sgemm rate and each conv layer's share of it; the PyTorch reference
#   (bench/train_speed.py) on CUDA at the same batches; unsharp-train --device cuda samples/s
#   with 1, 4 and 8 producers (the weights must be bit-identical) beside the CPU's; and
#   unsharp-classify --device cuda against --device cpu on 1,000 photos (photos/s, verdicts).
#
# The GPU machine need not have the build's libraries (OpenBLAS, TurboJPEG, libpng, ...), so the
# work is split in two:
#   bench/gpu_check.sh --pack DIR   here: builds the CUDA-enabled programs (build-gpu/, or
#                                   $UNSHARP_BUILD; CUDA architecture $UNSHARP_CUDA_ARCH, default
#                                   90) and packs into DIR the programs, the CUDA module, every
#                                   shared library they load except glibc's, the C++ runtime's
#                                   and the CUDA/cuDNN ones (xz-compressed), the architecture
#                                   and weights, the PyTorch reference, this script and the
#                                   photos of $UNSHARP_PHOTOS (default ../shared/data/photos-unsplash)
#   bash DIR/gpu_check.sh --run DIR there: runs it all from DIR, pointing LD_LIBRARY_PATH at the
#                                   pack and at cuDNN's and cuBLAS's folders (found on the
#                                   machine), UNSHARP_CUDA_MODULE at the module
#   bench/gpu_check.sh              both, on a machine that can build and has a GPU
# Each part runs under its own time limit and a failing part does not stop the others; the
# exit status is 1 when any part failed.
set -uo pipefail

die() { echo "gpu_check: $*" >&2; exit 2; }

# ---------------------------------------------------------------- pack (the build machine)
pack() {
  local dir=$1 root build photos
  root=$(cd "$(dirname "$0")/.." && pwd)
  build=${UNSHARP_BUILD:-$root/build-gpu}
  photos=${UNSHARP_PHOTOS:-$root/../shared/data/photos-unsplash}
  command -v nvcc > /dev/null || export PATH=/usr/local/cuda/bin:$PATH
  command -v nvcc > /dev/null || die "nvcc is not on the PATH"
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DUNSHARP_CUDA=ON \
      -DCMAKE_CUDA_ARCHITECTURES="${UNSHARP_CUDA_ARCH:-90}" > /dev/null || die "cmake failed"
  fi
  cmake --build "$build" -j"$(nproc)" --target unsharp-cuda test_parity train_speed unsharp-train unsharp-classify \
    > /dev/null || die "the build failed"
  ldd "$build/engine/libunsharp-cuda.so" | grep -q libcudnn || die "the CUDA module was built without cuDNN"

  # only an empty folder or an earlier pack is replaced
  if [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ] && [ ! -f "$dir/gpu_check.sh" ]; then die "$dir is not empty and not a pack"; fi
  rm -rf "${dir:?}"
  mkdir -p "$dir/bin" "$dir/src/weights" "$dir/src/bench" "$dir/src/tests/torch" "$dir/photos" || die "cannot create $dir"
  local bins=("$build/tests/test_parity" "$build/bench/train_speed" "$build/train/unsharp-train" "$build/cli/unsharp-classify")
  cp "${bins[@]}" "$dir/bin/" || die "cannot copy the programs"
  cp "$build/engine/libunsharp-cuda.so" "$dir/bin/" || die "no CUDA module in $build"
  # every library the programs and the module load, by the name they ask for, except those the
  # GPU machine has in its own version: glibc, the compiler's runtime, the driver, CUDA and cuDNN
  mkdir -p "$dir/stage"
  ldd "${bins[@]}" "$build/engine/libunsharp-cuda.so" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' | sort -u |
    while read -r name path; do
      case $name in
        libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libresolv.so*|ld-linux*|libgcc_s.so*|libstdc++.so*) ;;
        libcuda.so*|libcudnn*|libcublas*|libnvrtc*|libnvJitLink*) ;;
        *) cp -L "$path" "$dir/stage/$name" ;;
      esac
    done
  (cd "$dir/stage" && tar -cf - . | xz -T"$(nproc)" -6 > ../lib.tar.xz) || die "cannot compress the libraries"
  rm -rf "${dir:?}/stage"
  cp "$root/weights/unsharp-v2.arch" "$root/weights/unsharp-v2.usw" "$dir/src/weights/"
  cp -r "$root/weights/experiments" "$dir/src/weights/" # test_parity trains the experiments' architectures too
  cp "$root/bench/train_speed.py" "$dir/src/bench/"
  cp "$root/tests/torch/unsharp_torch.py" "$dir/src/tests/torch/"
  cp "$root/bench/gpu_check.sh" "$dir/gpu_check.sh"
  if [ -d "$photos" ]; then
    find "$photos" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' \) | sort | head -"${UNSHARP_PHOTOS_MAX:-800}" |
      xargs -d '\n' cp -t "$dir/photos/"
  else
    echo "gpu_check: warning: $photos is missing: the pack has no photos (unsharp-train and classify are skipped)" >&2
  fi
  echo "gpu_check: packed $(ls "$dir/photos" | wc -l) photos, $(tar -tJf "$dir/lib.tar.xz" | grep -c 'so') libraries into $dir: $(du -sh "$dir" | cut -f1)"
  git -C "$root" log -1 --format='gpu_check: build of %h %s' > "$dir/BUILD" 2> /dev/null || true
  git -C "$root" status --short -- engine bench tests >> "$dir/BUILD" 2> /dev/null || true
}

# ---------------------------------------------------------------- run (the GPU machine)
FAILED=()
# part NAME SECONDS CMD...: runs CMD under a time limit, says how it ended, and goes on
part() {
  local name=$1 secs=$2; shift 2
  local t0=$SECONDS
  timeout -k 5 "$secs" "$@"
  local rc=$?
  if [ $rc != 0 ]; then # fd 3: the run's own output, whatever the command's is redirected to
    FAILED+=("$name")
    echo "gpu_check: FAILED: $name (exit $rc$([ $rc = 124 ] && echo ", over $secs s"))" >&3
  fi
  echo "   [$name: $((SECONDS - t0)) s]" >&3
  return $rc
}

# the rate in a "N steps in S s: X samples/s" line
rate() { sed -n 's/.*: \([0-9.]*\) samples\/s.*/\1/p' | tail -1; }

find_lib() { # the folder of library $1: ldconfig, then the usual places, then everywhere
  local f
  f=$(ldconfig -p 2> /dev/null | awk -v n="$1" '$1 == n { print $NF; exit }')
  [ -n "$f" ] || f=$(find /usr/local /opt /usr/lib /root -name "$1" 2> /dev/null | head -1)
  [ -n "$f" ] || f=$(find / -xdev -name "$1" 2> /dev/null | head -1)
  [ -n "$f" ] && dirname "$f"
}

run() {
  local P
  P=$(cd "$1" && pwd) || die "no pack at $1"
  local T
  T=$(mktemp -d /tmp/gpu_check-XXXXXX)
  local cores
  cores=$(nproc)
  exec 3>&1
  echo "== gpu_check $(date -u '+%Y-%m-%d %H:%M UTC') on $(hostname), $cores cores"
  cat "$P/BUILD" 2> /dev/null
  mkdir -p "$T/lib" && xz -dc "$P/lib.tar.xz" | tar -xf - -C "$T/lib" || die "cannot unpack the libraries"
  local B=$P/bin ARCH=$P/src/weights/unsharp-v2.arch PY=${PYTHON:-python3}
  # cuDNN: PyTorch's own (the version the module was built against, and the one PyTorch runs on)
  # before any other on the machine; PyTorch itself runs with the machine's library path
  local dnn blas orig_ld=${LD_LIBRARY_PATH:-}
  dnn=$("$PY" -c 'import os, nvidia.cudnn as c; print(os.path.join(list(c.__path__)[0], "lib"))' 2> /dev/null)
  [ -n "$dnn" ] && [ -e "$dnn/libcudnn.so.9" ] || dnn=$(find_lib libcudnn.so.9)
  blas=$(find_lib libcublas.so.13)
  export LD_LIBRARY_PATH=$T/lib${dnn:+:$dnn}${blas:+:$blas}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export UNSHARP_CUDA_MODULE=$P/bin/libunsharp-cuda.so
  export UNSHARP_WEIGHTS=$P/src/weights/unsharp-v2.usw
  export UNSHARP_SOURCE_DIR=$P/src
  export NVIDIA_TF32_OVERRIDE=0
  export PYTHONUNBUFFERED=1

  echo "== versions"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader || echo "(no nvidia-smi)"
  nvidia-smi 2> /dev/null | grep -o 'CUDA Version: [0-9.]*' | head -1
  command -v nvcc > /dev/null && nvcc --version | tail -2 | head -1
  echo "cuDNN: ${dnn:-NOT FOUND}/$(basename "$(readlink -f "$dnn/libcudnn.so.9" 2> /dev/null)")"
  echo "cuBLAS: ${blas:-NOT FOUND}/$(basename "$(readlink -f "$blas/libcublas.so.13" 2> /dev/null)")"
  LD_LIBRARY_PATH=$orig_ld "$PY" -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda, "cuDNN", torch.backends.cudnn.version())' 2>&1 | tail -1
  ldd --version | head -1
  if ldd "$B"/* 2>&1 | grep 'not found' | sort -u; then echo "gpu_check: WARNING: libraries are missing (above)"; fi

  echo "== 1. parity suite (tests/test_parity), cuDNN algorithms by heuristic (the default), then by measurement"
  part parity 150 "$B/test_parity" > "$T/parity" 2>&1
  tail -40 "$T/parity"
  part "parity measure" 150 env UNSHARP_CUDNN_ALGO=measure "$B/test_parity" > "$T/parity-measure" 2>&1
  tail -20 "$T/parity-measure"

  echo "== 2. train_speed: the C engine, CPU ($cores threads) and CUDA, no TF32"
  local b f
  for b in 16 128; do
    part "train_speed cpu b$b" 90 "$B/train_speed" --arch "$ARCH" --device cpu --threads "$cores" --batch "$b" \
      --seconds 1 > "$T/c-cpu-$b" 2>&1
    cat "$T/c-cpu-$b"
  done
  local algo
  for algo in heuristic measure fastest; do
    for b in 16 128; do
      part "train_speed cuda b$b $algo" 60 env UNSHARP_CUDNN_ALGO=$algo "$B/train_speed" --arch "$ARCH" --device cuda \
        --batch "$b" --seconds 1 > "$T/c-cuda-$b-$algo" 2>&1
      echo "UNSHARP_CUDNN_ALGO=$algo: $(tail -1 "$T/c-cuda-$b-$algo")"
    done
  done
  head -2 "$T/c-cuda-16-heuristic"
  for algo in heuristic measure; do
    echo "-- a step's parts and the conv layers at batch 128 on CUDA (--layers), UNSHARP_CUDNN_ALGO=$algo"
    part "train_speed cuda layers $algo" 90 env UNSHARP_CUDNN_ALGO=$algo "$B/train_speed" --arch "$ARCH" \
      --device cuda --batch 128 --steps 5 --layers > "$T/layers-$algo" 2>&1
    tail -n +4 "$T/layers-$algo"
  done

  echo "== 3. PyTorch reference on CUDA (bench/train_speed.py), no TF32"
  local variant
  for b in 16 128; do
    for variant in "" "--cudnn-benchmark" "--cudnn-benchmark --host-batch"; do
      # shellcheck disable=SC2086
      part "pytorch b$b $variant" 60 env LD_LIBRARY_PATH="$orig_ld" "$PY" "$P/src/bench/train_speed.py" --arch "$ARCH" \
        --device cuda --batch "$b" --seconds 1 $variant > "$T/py-$b-${variant//[ -]/}" 2>&1
      grep -v '^loss' "$T/py-$b-${variant//[ -]/}" | tail -2
    done
  done

  local n_photos
  n_photos=$(ls "$P/photos" 2> /dev/null | wc -l)
  if [ "$n_photos" -gt 0 ]; then
    echo "== 4. unsharp-train, 1 epoch on $n_photos photos, batch 16, seed 1"
    local p
    for p in 1 4 8; do
      part "unsharp-train cuda producers $p" 120 "$B/unsharp-train" --epochs 1 --device cuda --producers "$p" --db none \
        --scratch --seed 1 -q -o "$T/w-cuda-$p.usw" "$P/photos" > "$T/train-$p" 2>&1
      echo "cuda, $p producers: $(grep -v '^#' "$T/train-$p" | awk '$1 ~ /^[0-9]+$/ && NF == 8 { print $8 " samples/s" }' | tail -1)"
      grep -i 'error\|fail' "$T/train-$p" | head -3
    done
    for p in 4 8; do
      if cmp -s "$T/w-cuda-1.usw" "$T/w-cuda-$p.usw"; then echo "weights with $p producers: identical to 1 producer's"
      else echo "gpu_check: FAILED: the weights with $p producers differ from 1 producer's"; FAILED+=("train weights $p"); fi
    done
    part "unsharp-train cpu" 120 "$B/unsharp-train" --epochs 1 --device cpu --threads "$cores" --producers 4 --db none \
      --scratch --seed 1 -q -o "$T/w-cpu.usw" "$P/photos" > "$T/train-cpu" 2>&1
    echo "cpu, $cores threads, 4 producers: $(grep -v '^#' "$T/train-cpu" | awk '$1 ~ /^[0-9]+$/ && NF == 8 { print $8 " samples/s" }' | tail -1)"
    head -1 "$T/train-1"

    echo "== 5. unsharp-classify, cuda against cpu"
    mkdir -p "$T/cls"
    local i=0 src
    for src in "$P"/photos/*; do # 1,000 files: the photos, then copies of the first ones under new names
      cp "$src" "$T/cls/"; i=$((i + 1))
    done
    for src in "$P"/photos/*; do
      [ $i -ge 1000 ] && break
      cp "$src" "$T/cls/copy-$(basename "$src")"; i=$((i + 1))
    done
    "$B/unsharp-classify" --no-index --device cuda --format csv "$P/photos" > /dev/null 2>&1 # warm-up: libraries, file cache
    local dev j
    for dev in cpu cuda; do
      for j in $([ $dev = cpu ] && echo "$cores" || echo "1 4 $cores"); do
        part "classify $dev -j $j" 120 "$B/unsharp-classify" --no-index --device "$dev" -j "$j" --format csv "$T/cls" \
          > "$T/cls-$dev-$j.csv" 2> "$T/cls-$dev-$j.err"
        echo "$dev -j $j: $(tail -1 "$T/cls-$dev-$j.err")"
      done
    done
    cut -d, -f1,3 "$T/cls-cpu-$cores.csv" | sort > "$T/v-cpu"
    cut -d, -f1,3 "$T/cls-cuda-$cores.csv" | sort > "$T/v-cuda"
    if cmp -s "$T/v-cpu" "$T/v-cuda"; then echo "verdicts: cuda = cpu on all $(($(wc -l < "$T/v-cpu") - 1)) photos"
    else echo "gpu_check: FAILED: verdicts differ on $(diff "$T/v-cpu" "$T/v-cuda" | grep -c '^<') photos"; FAILED+=("verdicts"); fi
    paste -d' ' <(cut -d, -f2 "$T/cls-cpu-$cores.csv" | sort) <(cut -d, -f2 "$T/cls-cuda-$cores.csv" | sort) |
      awk 'NR > 1 { d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d } END { printf "largest sharpness difference (sorted): %.4f\n", m }'
  else
    echo "== 4, 5: skipped: the pack has no photos"
  fi

  echo "== summary: train_speed samples/s (unsharp-v2, 256x256 crops, no TF32)"
  echo "| batch | C cpu ($cores threads) | C cuda heuristic | C cuda measure | C cuda fastest | PyTorch cuda | PyTorch cuda cudnn.benchmark | PyTorch cuda cudnn.benchmark, batch from the host |"
  echo "|---|---|---|---|---|---|---|---|"
  for b in 16 128; do
    echo "| $b | $(rate < "$T/c-cpu-$b") | $(rate < "$T/c-cuda-$b-heuristic") | $(rate < "$T/c-cuda-$b-measure") |" \
      "$(rate < "$T/c-cuda-$b-fastest") | $(rate < "$T/py-$b-") | $(rate < "$T/py-$b-cudnnbenchmark") |" \
      "$(rate < "$T/py-$b-cudnnbenchmarkhostbatch") |"
  done
  [ -n "${OUT:-}" ] && (cd "$T" && tar -czf "$OUT/gpu_check-results.tgz" ./*.csv ./*.err train-* parity* layers* c-* py-* 2> /dev/null)
  rm -rf "$T"
  if [ ${#FAILED[@]} -gt 0 ]; then echo "gpu_check: ${#FAILED[@]} parts failed: ${FAILED[*]}"; return 1; fi
  echo "gpu_check: every part ran"
}

case ${1:-} in
  --pack) [ $# = 2 ] || die "usage: gpu_check.sh --pack DIR"; pack "$2" ;;
  --run) [ $# = 2 ] || die "usage: gpu_check.sh --run DIR"; run "$2" ;;
  "") d=$(mktemp -d /tmp/gpu_pack-XXXXXX); pack "$d" && run "$d"; rc=$?; rm -rf "$d"; exit $rc ;;
  *) die "usage: gpu_check.sh [--pack DIR | --run DIR]" ;;
esac
