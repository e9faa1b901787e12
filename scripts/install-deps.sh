#!/bin/bash
# install-deps.sh: installs, from Debian 12, the packages the build needs plus any named on
# the command line, skipping those already installed. Uses sudo when not root. (libnuma-dev:
# a static link through pkg-config needs it, named by x265's .pc, which libheif's pulls in.)
# usage: scripts/install-deps.sh [EXTRA_PACKAGE...]
set -euo pipefail

PACKAGES=(build-essential cmake pkg-config libopenblas-dev check zlib1g-dev
          libturbojpeg0-dev libpng-dev libexif-dev libjpeg-turbo-progs netpbm
          libheif-dev libwebp-dev libtiff-dev libraw-dev libnuma-dev
          libheif-examples libavif-bin webp libtiff-tools libimage-exiftool-perl python3-pil
          python3-numpy python3-scipy
          libglib2.0-dev libexempi-dev exiv2 man-db groff-base desktop-file-utils
          libsqlite3-dev libpq-dev postgresql python3 procps parallel
          libsdl2-dev libsdl2-ttf-dev fonts-dejavu-core xvfb xauth "$@")

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install ${missing[*]}" >&2; exit 2; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
