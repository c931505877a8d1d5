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
  libspatialite-dev libsqlite3-dev libsqlite3-mod-spatialite sqlite3 libpng-dev libjson-c-dev
  python3-gdal python3-numpy
  libcairo2-dev libyaml-dev libmicrohttpd-dev fonts-dejavu-core fontconfig
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The viewer's test drives Debian's chromium from node. Looked for as commands:
# a node from elsewhere (e.g. NodeSource's, which bundles npm) conflicts with
# Debian's npm package, and is as good.
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages (package-lock.json): Leaflet for the viewer, puppeteer-core for
# its test; again when the lock file is newer than the last install. No
# browser download: the test uses Debian's chromium.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi

BUILD=${1:-build}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" --buildtype=debugoptimized >/dev/null
ninja -C "$BUILD" >/dev/null
echo "setup: built $BUILD/gis/cli/tgis"
