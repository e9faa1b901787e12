#!/bin/bash
# check-engine-alone.sh: shows that libunsharp-engine builds, passes its own tests and installs
# without anything the programs need. The pkg-config files of every other library are hidden:
# PKG_CONFIG_LIBDIR holds only the engine's (openblas, zlib, libturbojpeg, libpng, libexif,
# libheif, libwebp, libtiff-4, libraw_r,
# with what they require) and Check's, so libpq, SQLite, SDL2, SDL2_ttf, GIO, GLib and Exempi
# cannot be found. Then: configure with -DUNSHARP_PROGRAMS=OFF (and no CUDA, which needs no
# pkg-config file but takes long to build), build, run the engine's test suites, install into
# a temporary prefix, and check that none of those libraries was found, linked or installed,
# and that the installed example builds with the installed pkg-config file.
# usage: scripts/check-engine-alone.sh [WORKDIR (a new temporary folder)]
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
T=${1:-$(mktemp -d /tmp/unsharp-engine-alone-XXXXXX)}
mkdir -p "$T/pc"
fail() { echo "check-engine-alone: FAIL: $*" >&2; exit 1; }

# the engine's .pc files and everything they require, and nothing else
add_pc() {
  local dir
  [ -e "$T/pc/$1.pc" ] && return
  dir=$(pkg-config --variable=pcfiledir "$1") || fail "no pkg-config file for $1 (scripts/install-deps.sh)"
  ln -s "$dir/$1.pc" "$T/pc/$1.pc"
  for r in $(pkg-config --print-requires --print-requires-private "$1" | awk '{print $1}'); do add_pc "$r"; done
}
for p in openblas zlib libturbojpeg libpng libexif libheif libwebp libtiff-4 libraw_r check; do add_pc "$p"; done
export PKG_CONFIG_LIBDIR=$T/pc PKG_CONFIG_PATH=
for p in libpq sqlite3 sdl2 SDL2_ttf gio-2.0 glib-2.0 exempi-2.0; do
  ! pkg-config --exists "$p" || fail "$p is still visible"
done
echo "check-engine-alone: pkg-config sees only: $(ls "$T/pc" | sed 's/\.pc$//' | tr '\n' ' ')"

cmake -S "$SRC" -B "$T/build" -DUNSHARP_PROGRAMS=OFF -DUNSHARP_CUDA=OFF -DCMAKE_INSTALL_PREFIX="$T/prefix" \
  > "$T/configure.log" || { cat "$T/configure.log"; fail "configure"; }
cmake --build "$T/build" -j"${JOBS:-2}" > "$T/build.log" 2>&1 || { tail -30 "$T/build.log"; fail "build"; }
! grep -qiE '^(LIBPQ|SQLITE3|SDL2|SDL2TTF|GIO|GLIB|EXEMPI)_FOUND:INTERNAL=1' "$T/build/CMakeCache.txt" ||
  fail "a program's library was looked for and found"
for t in unsharp-classify unsharp-review unsharp-train unsharp-runs libunsharp-files.a; do
  [ -z "$(find "$T/build" -name "$t" -type f)" ] || fail "$t was built"
done
(cd "$T/build" && ctest -j"${JOBS:-2}" --output-on-failure > "$T/ctest.log" 2>&1) || { tail -30 "$T/ctest.log"; fail "tests"; }
echo "check-engine-alone: $(grep 'tests passed' "$T/ctest.log")"
cmake --install "$T/build" > "$T/install.log" || fail "install"
lib=$(find "$T/prefix" -name libunsharp-engine.so.0 | head -1)
[ -n "$lib" ] || fail "libunsharp-engine.so.0 not installed"
! ldd "$lib" | grep -E 'libpq|sqlite|SDL|gio|glib|gobject|exempi' || fail "the engine links a program's library"
[ -z "$(find "$T/prefix" -name 'unsharp-*' -path '*/bin/*')" ] || fail "a program was installed"
pcdir=$(dirname "$(find "$T/prefix" -name unsharp-engine.pc | head -1)")
cc -o "$T/classify_one" "$SRC/engine/examples/classify_one.c" \
  $(PKG_CONFIG_PATH=$pcdir PKG_CONFIG_LIBDIR=$T/pc:$pcdir pkg-config --cflags --libs unsharp-engine) ||
  fail "the example does not build against the installed engine"
echo "check-engine-alone: ok: built, tested and installed in $T/prefix without libpq, SQLite, SDL2, GIO, GLib or Exempi"
