#!/usr/bin/env bash
# setup.sh -- install what tgis needs from Debian's packages (only what is
# missing) and build it. Safe to run again; does nothing that is done.
#
# usage: scripts/setup.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."

# Everything tgis builds, tests and runs with, by Debian package name.
PACKAGES=(
  gcc pkg-config meson ninja-build python3
  libgdal-dev gdal-bin libgeos-dev libproj-dev proj-bin proj-data
  libspatialite-dev libsqlite3-dev sqlite3 libpng-dev libjson-c-dev
  libcairo2-dev libyaml-dev libmicrohttpd-dev fonts-dejavu-core fontconfig
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

BUILD=${1:-build}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" --buildtype=debugoptimized >/dev/null
ninja -C "$BUILD" >/dev/null
echo "setup: built $BUILD/gis/cli/tgis"
