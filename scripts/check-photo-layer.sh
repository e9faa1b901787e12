#!/bin/bash
# check-photo-layer.sh: fails when the photo layer reaches into the network core. The photo
# layer (engine/src/judge.c, direction.[ch], photo_score.[ch], photo_layer.h, image/) may
# include the public headers (unsharp/*.h), system headers, its own private headers and simd.h
# (the CPU switch, below both layers), and must use the model only through the public calls:
# no m->, no unsharp__model*, no core private header (model.h, error.h, backend.h, layers/,
# cpu/).
# usage: scripts/check-photo-layer.sh FILE_OR_DIR...
set -uo pipefail
[ $# -gt 0 ] || { echo "usage: check-photo-layer.sh FILE_OR_DIR..." >&2; exit 2; }
files=$(find "$@" -name '*.[ch]' | sort)
[ -n "$files" ] || { echo "check-photo-layer: no sources in $*" >&2; exit 2; }
own='"(direction\.h|photo_layer\.h|photo_score\.h|image_internal\.h|simd\.h|unsharp/[a-z_]+\.h)"'
bad_include=$(grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' $files | grep -vE "#[[:space:]]*include[[:space:]]*$own")
bad_use=$(grep -HnE '\bm->|unsharp__model' $files | grep -vE '^[^:]*:[0-9]+:[[:space:]]*(/\*|\*|//)')
if [ -n "$bad_include$bad_use" ]; then
  echo "check-photo-layer: the photo layer must use only the core's public API; found:" >&2
  [ -n "$bad_include" ] && echo "$bad_include" >&2
  [ -n "$bad_use" ] && echo "$bad_use" >&2
  exit 1
fi
echo "check-photo-layer: $(echo "$files" | wc -l) files use the core's public API only"
