#!/bin/bash
# photo_split.sh: the fixed split of each sharp photo source into a training part and a held-back
# fifth (the keeper check and the held-back synthetic sets; never trained on). Per source folder,
# its JPEG and PNG files in C-locale name order: every fifth (the 1st, 6th, 11th, ...) is held
# back. Writes DEST/train/SOURCE/FILE and DEST/held/SOURCE/FILE (hard links where the file system
# allows, else copies: folder scans do not follow symbolic links), where SOURCE is the folder's
# name. Soft photos that belong in no sharp set are left out (analogpattern, a tinted
# texture that is soft at 100 %: ../shared/data/README.md).
# usage: bench/photo_split.sh DEST SOURCE_DIR...
#   e.g. bench/photo_split.sh /tmp/split ../shared/data/photos-unsplash debian-photos more-photos
#        bench/photo_split.sh --all DEST: the three sources: ../shared/data/photos-unsplash,
#        $DEBIAN_PHOTOS and $MORE_PHOTOS (each fetched into DEST.sources/ by its
#        ../shared/data/get-*.sh when unset; a source that cannot be had is left out)
set -euo pipefail
if [ "${1:-}" = --all ] && [ $# -eq 2 ]; then
  dest=$2; data=$(cd "$(dirname "$0")/.." && pwd)/../shared/data
  d=${DEBIAN_PHOTOS:-}; m=${MORE_PHOTOS:-}
  if [ -z "$d" ]; then d=$dest.sources/debian-photos; bash "$data/get-debian-photos.sh" "$d" > /dev/null 2>&1 || true; fi
  if [ -z "$m" ]; then m=$dest.sources/more-photos; bash "$data/get-more-photos.sh" "$m" > /dev/null 2>&1 || true; fi
  srcs=("$data/photos-unsplash")
  for x in "$d" "$m"; do ls "$x"/*.jpg > /dev/null 2>&1 && srcs+=("$x"); done
  set -- "$dest" "${srcs[@]}"
fi
[ $# -ge 2 ] || { echo "usage: $0 DEST SOURCE_DIR... | --all DEST" >&2; exit 2; }
dest=$1; shift
for src in "$@"; do
  [ -d "$src" ] || { echo "photo_split: $src is not a folder" >&2; exit 2; }
  name=$(basename "$(realpath "$src")")
  mkdir -p "$dest/train/$name" "$dest/held/$name"
  i=0
  while IFS= read -r f; do
    case "$f" in analogpattern_by_Peter_Nerlich.jpg) continue ;; esac
    part=train; ((i % 5 == 0)) && part=held
    ln -f "$src/$f" "$dest/$part/$name/$f" 2> /dev/null || cp -f "$src/$f" "$dest/$part/$name/$f"
    i=$((i + 1))
  done < <(cd "$src" && ls -1 | LC_ALL=C sort | grep -iE '\.(jpe?g|png)$')
  echo "photo_split: $name: $(ls "$dest/train/$name" | wc -l) to train, $(ls "$dest/held/$name" | wc -l) held back"
done
