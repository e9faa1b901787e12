#!/bin/bash
# classify.sh: the quick start's main job in one command: installs what the build needs from
# Debian 12 (only what is missing), builds unsharp into build/, then judges PATH... with the
# shipped weights (options go to unsharp-classify; see docs/cli.md).
# usage: scripts/classify.sh [unsharp-classify options] PATH...
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -eq 0 ]; then
  echo "usage: scripts/classify.sh [unsharp-classify options] PATH..." >&2
  exit 2
fi
UNSHARP_BUILD="$here/build" "$here/scripts/setup.sh" >&2
exec "$here/build/cli/unsharp-classify" "$@"
