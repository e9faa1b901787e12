#!/bin/bash
# setup.sh: installs what the build needs from Debian 12 (only what is missing), then
# configures and builds unsharp into build/ (or $UNSHARP_BUILD).
# usage: scripts/setup.sh [extra cmake arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

BUILD=${UNSHARP_BUILD:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
