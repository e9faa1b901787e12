#!/bin/bash
# install_pkg.sh: installs the build into a temporary prefix and uses it the way others will:
# checks the installed tree (programs, libraries, header, pkg-config and CMake files, weights,
# man pages, desktop entry), the shared library's SONAME and exported symbols (exactly the
# header's UNSHARP_API calls), then builds engine/examples/classify_one.c with pkg-config
# (shared and static) and with find_package(unsharp) (unsharp::engine, unsharp::engine-static),
# runs each on generated photos with the installed weights (nothing points at the source tree),
# and compares its sharpness and verdict with the installed unsharp-classify's.
# usage: install_pkg.sh BUILD_DIR SOURCE_DIR LIBDIR DATADIR SANITIZE(ON/OFF) CC [REVIEW_PROGRAM]
# (REVIEW_PROGRAM: the built unsharp-review, empty or absent when the build has none)
set -uo pipefail
# (grep > /dev/null rather than grep -q after a pipe: grep -q stops reading at the first match,
# and under pipefail the writer's SIGPIPE, likelier with the CUDA libraries' long ldd output,
# would fail the check)
BUILD=$1 SRC=$2 LIBDIR=$3 CONF_DATADIR=$4 SANITIZE=$5 CC=$6 REVIEW=${7:-}
NAME=install_pkg
fail() { echo "$NAME: FAIL: $*" >&2; exit 1; }
skip() { echo "$NAME: SKIP: $*" >&2; exit 77; }
for tool in cjpeg pkg-config nm readelf cmake; do
  command -v $tool >/dev/null || skip "$tool is not installed"
done
T=$(mktemp -d /tmp/unsharp-install-XXXXXX)
trap 'rm -rf "$T"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/test_photos.sh"
P=$T/prefix
# an installed ASan+UBSan library links only into programs built with the same flags
SAN=()
case "$SANITIZE" in ON|on|1|TRUE|true) SAN=(-fsanitize=address,undefined) ;; esac

cmake --install "$BUILD" --prefix "$P" > "$T/install.log" 2>&1 || { cat "$T/install.log" >&2; fail "cmake --install"; }

# ---- the installed tree ----
VERSION=$(sed -n 's/^#define UNSHARP_VERSION_STRING "\(.*\)"/\1/p' "$SRC/engine/include/unsharp/core.h")
MAJOR=${VERSION%%.*}
for f in bin/unsharp-classify bin/unsharp-train bin/unsharp-runs include/unsharp/unsharp.h include/unsharp/core.h include/unsharp/photo.h \
         "$LIBDIR/libunsharp-engine.so.$VERSION" "$LIBDIR/libunsharp-engine.so.$MAJOR" "$LIBDIR/libunsharp-engine.so" \
         "$LIBDIR/libunsharp-engine.a" "$LIBDIR/pkgconfig/unsharp-engine.pc" \
         "$LIBDIR/cmake/unsharp/unsharpConfig.cmake" "$LIBDIR/cmake/unsharp/unsharpConfigVersion.cmake" \
         share/unsharp/unsharp-v2.usw share/man/man1/unsharp-classify.1 share/man/man1/unsharp-train.1 \
         share/man/man1/unsharp-runs.1 \
         share/doc/unsharp/classify_one.c share/doc/unsharp/library.md; do
  [ -e "$P/$f" ] || fail "not installed: $f"
done
cmp -s "$P/share/unsharp/unsharp-v2.usw" "$SRC/weights/unsharp-v2.usw" || fail "installed weights differ from weights/unsharp-v2.usw"
if [ -n "$REVIEW" ]; then
  for f in bin/unsharp-review share/man/man1/unsharp-review.1 share/applications/unsharp-review.desktop; do
    [ -e "$P/$f" ] || fail "not installed: $f"
  done
else  # no review window in this build: nothing of it may be installed
  for f in share/man/man1/unsharp-review.1 share/applications/unsharp-review.desktop; do
    [ ! -e "$P/$f" ] || fail "$f installed without unsharp-review"
  done
fi
if command -v desktop-file-validate >/dev/null; then
  out=$(desktop-file-validate "$SRC/gui-sdl/unsharp-review.desktop" 2>&1) || fail "desktop-file-validate: $out"
  [ -z "$out" ] || fail "desktop-file-validate: $out"
else
  echo "$NAME: desktop-file-validate not installed (desktop-file-utils): desktop entry not validated" >&2
fi

# ---- the CUDA module: installed beside the library when built; nothing else links CUDA ----
for f in "$P"/bin/* "$P/$LIBDIR"/libunsharp-engine.so.*; do
  ! readelf -d "$f" | grep 'NEEDED.*\[libcu' > /dev/null || fail "installed $f links a CUDA library"
done
if [ -e "$BUILD/engine/libunsharp-cuda.so" ]; then
  [ -e "$P/$LIBDIR/unsharp/libunsharp-cuda.so" ] || fail "not installed: $LIBDIR/unsharp/libunsharp-cuda.so"
  if ldconfig -p 2> /dev/null | grep 'libcuda\.so\.1 ' > /dev/null || [ -e "$(dirname "$(dirname "$CONF_DATADIR")")/$LIBDIR/unsharp/libunsharp-cuda.so" ]; then
    echo "$NAME: a driver or an install at the configured prefix: not checking which module the programs load" >&2
  else
    # with a stand-in driver that has no device, the installed program loads the installed
    # module (nothing else is there to find), which then reports the missing device
    mkdir "$T/drv"
    echo 'int cuInit(unsigned flags) { (void)flags; return 100; }' > "$T/drv/drv.c"
    "$CC" -shared -fPIC -o "$T/drv/libcuda.so.1" "$T/drv/drv.c" || fail "cannot build the stand-in driver"
    make_pgm 5 320 240 "$T/m.pgm" && cjpeg -outfile "$T/m.jpg" "$T/m.pgm"
    LD_LIBRARY_PATH=$T/drv "$P/bin/unsharp-classify" --device cuda "$T/m.jpg" > /dev/null 2> "$T/err" && fail "--device cuda worked without a device"
    grep -F "no CUDA device: " "$T/err" > /dev/null && ! grep -F -e "no NVIDIA driver" -e "not installed" "$T/err" > /dev/null ||
      { cat "$T/err" >&2; fail "the installed unsharp-classify did not load the installed CUDA module"; }
  fi
fi

# ---- the shared library: SONAME, and exactly the public calls exported ----
SO="$P/$LIBDIR/libunsharp-engine.so.$VERSION"
readelf -d "$SO" | grep "SONAME.*\[libunsharp-engine.so.$MAJOR\]" > /dev/null || fail "SONAME is not libunsharp-engine.so.$MAJOR"
cat "$P"/include/unsharp/*.h | sed -n 's/^UNSHARP_API.*[ *]\(unsharp_[a-z0-9_]*\)(.*/\1/p' | sort -u > "$T/declared"
nm -D --defined-only "$SO" | awk '{ print $3 }' | sort -u > "$T/exported"
[ -s "$T/declared" ] || fail "no UNSHARP_API call found in the installed header"
diff "$T/declared" "$T/exported" > "$T/sym.diff" || { cat "$T/sym.diff" >&2; fail "exported symbols (>) differ from the header's UNSHARP_API calls (<)"; }

# ---- photos, and the environment: only the install prefix can provide weights ----
make_pgm 3 320 240 "$T/a.pgm" && cjpeg -quality 95 -grayscale -outfile "$T/photo1.jpg" "$T/a.pgm" || fail "cjpeg"
make_pgm 5 320 240 "$T/b.pgm"
command -v pnmsmooth >/dev/null && pnmsmooth -width 15 -height 15 "$T/b.pgm" 2>/dev/null > "$T/b2.pgm" && mv "$T/b2.pgm" "$T/b.pgm"
cjpeg -quality 90 -grayscale -outfile "$T/photo2.jpg" "$T/b.pgm" || fail "cjpeg"
unset UNSHARP_WEIGHTS
mkdir -p "$T/home"
export HOME=$T/home XDG_DATA_HOME=$T/home/.local/share
cd "$T"

# the reference: the installed unsharp-classify, one line "SHARPNESS VERDICT" a photo
reference() {
  "$P/bin/unsharp-classify" --format jsonl -q -j 1 "$T/$1" 2>"$T/classify.err" |
    sed -n 's/.*"sharpness":\([0-9.]*\),"verdict":"\([a-z]*\)".*/\1 \2/p'
}
for photo in photo1.jpg photo2.jpg; do
  reference $photo > "$T/$photo.ref"
  [ -s "$T/$photo.ref" ] || { cat "$T/classify.err" >&2; fail "installed unsharp-classify judged nothing"; }
done
echo "$NAME: unsharp-classify: photo1.jpg $(cat "$T/photo1.jpg.ref"), photo2.jpg $(cat "$T/photo2.jpg.ref")" >&2
[ "$(cat "$T/photo1.jpg.ref")" != "$(cat "$T/photo2.jpg.ref")" ] || fail "the two photos got the same result: the comparison would prove little"

# same_as_classify LABEL PROGRAM [ENV...]: the program prints what unsharp-classify printed
same_as_classify() {
  local label=$1 prog=$2; shift 2
  for photo in photo1.jpg photo2.jpg; do
    got=$(env "$@" "$prog" "$T/$photo" 2>"$T/err")
    rc=$?
    [ $rc = 0 ] || { cat "$T/err" >&2; fail "$label: exit $rc on $photo"; }
    [ "$got" = "$(cat "$T/$photo.ref")" ] || fail "$label on $photo: '$got', unsharp-classify: '$(cat "$T/$photo.ref")'"
  done
  echo "$NAME: $label: same as unsharp-classify" >&2
}

# ---- pkg-config ----
export PKG_CONFIG_PATH=$P/$LIBDIR/pkgconfig
[ "$(pkg-config --modversion unsharp-engine)" = "$VERSION" ] || fail "pkg-config --modversion is not $VERSION"
EX=$SRC/engine/examples/classify_one.c
# shellcheck disable=SC2046
"$CC" "${SAN[@]}" -o "$T/ex_pc" "$EX" $(pkg-config --cflags --libs unsharp-engine) || fail "cc with pkg-config --cflags --libs"
LD_LIBRARY_PATH=$P/$LIBDIR ldd "$T/ex_pc" | grep -F "$P/$LIBDIR/libunsharp-engine.so.$MAJOR" > /dev/null || fail "ex_pc does not use the installed shared library"
same_as_classify "pkg-config, shared" "$T/ex_pc" LD_LIBRARY_PATH="$P/$LIBDIR"
# static: the .a named, its private dependencies from pkg-config --static
# shellcheck disable=SC2046
"$CC" "${SAN[@]}" -o "$T/ex_pc_static" "$EX" $(pkg-config --cflags unsharp-engine) "$P/$LIBDIR/libunsharp-engine.a" \
  $(pkg-config --static --libs unsharp-engine | sed 's/-lunsharp-engine//') || fail "cc with pkg-config --static --libs"
! ldd "$T/ex_pc_static" | grep libunsharp-engine > /dev/null || fail "ex_pc_static needs the shared library"
# a statically linked program has no library path to go by: like an installed program, it finds
# the weights from its own folder, here the prefix's bin/
cp "$T/ex_pc_static" "$P/bin/"
same_as_classify "pkg-config, static" "$P/bin/ex_pc_static"

# ---- find_package(unsharp) ----
mkdir -p "$T/cm"
cp "$EX" "$T/cm/"
cat > "$T/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(classify_one C)
find_package(unsharp 0.1 REQUIRED COMPONENTS static)
add_executable(ex_shared classify_one.c)
target_link_libraries(ex_shared PRIVATE unsharp::engine)
add_executable(ex_static classify_one.c)
target_link_libraries(ex_static PRIVATE unsharp::engine-static)
file(WRITE ${CMAKE_BINARY_DIR}/weights.txt "${unsharp_WEIGHTS}")
CM
cmake -S "$T/cm" -B "$T/cm/build" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_COMPILER="$CC" \
  -DCMAKE_C_FLAGS="${SAN[*]}" > "$T/cm.log" 2>&1 || { cat "$T/cm.log" >&2; fail "configuring a find_package(unsharp) project"; }
cmake --build "$T/cm/build" > "$T/cm.log" 2>&1 || { cat "$T/cm.log" >&2; fail "building a find_package(unsharp) project"; }
[ "$(cat "$T/cm/build/weights.txt")" = "$P/share/unsharp/unsharp-v2.usw" ] || fail "unsharp_WEIGHTS is '$(cat "$T/cm/build/weights.txt")'"
ldd "$T/cm/build/ex_shared" | grep -F "$P/$LIBDIR/libunsharp-engine.so.$MAJOR" > /dev/null || fail "ex_shared does not use the installed shared library"
same_as_classify "find_package, unsharp::engine" "$T/cm/build/ex_shared"
cp "$T/cm/build/ex_static" "$P/bin/"
same_as_classify "find_package, unsharp::engine-static" "$P/bin/ex_static"

# ---- the weights came from the install prefix: without them, nothing is found ----
if [ -e "$CONF_DATADIR/unsharp-v2.usw" ]; then
  echo "$NAME: $CONF_DATADIR/unsharp-v2.usw exists (an install at the configured prefix): not checking that the prefix's copy was the one used" >&2
else
  mv "$P/share/unsharp/unsharp-v2.usw" "$T/moved.usw"
  LD_LIBRARY_PATH=$P/$LIBDIR "$T/ex_pc" "$T/photo1.jpg" > /dev/null 2> "$T/err" && fail "weights found with the prefix's copy gone"
  grep -q "no shipped weights found" "$T/err" || { cat "$T/err" >&2; fail "unexpected message without weights"; }
  # and the user's own copy in $XDG_DATA_HOME is found
  mkdir -p "$XDG_DATA_HOME/unsharp" && mv "$T/moved.usw" "$XDG_DATA_HOME/unsharp/unsharp-v2.usw"
  same_as_classify "weights in XDG_DATA_HOME" "$T/ex_pc" LD_LIBRARY_PATH="$P/$LIBDIR"
fi
echo "$NAME: ok" >&2
