#!/bin/bash
# check-engine-quiet.sh: fails when library code could print or end the process. The
# library reports through status codes only, without exception.
# usage: scripts/check-engine-quiet.sh DIR
set -uo pipefail
dir=${1:?usage: check-engine-quiet.sh DIR}
pattern='\b(printf|fprintf|vfprintf|puts|fputs|putchar|putc|fputc|perror|fwrite|exit|_exit|_Exit|quick_exit|abort|assert)[[:space:]]*\('
hits=$(grep -rnE --include='*.c' --include='*.h' --include='*.cu' "$pattern" "$dir" \
       | grep -vE '^[^:]*:[0-9]+:[[:space:]]*(/\*|\*|//)')
if [ -n "$hits" ]; then
  echo "check-engine-quiet: the library must not print or exit; found:" >&2
  echo "$hits" >&2
  exit 1
fi
echo "check-engine-quiet: $dir is quiet"
