#!/usr/bin/env bash
# demo.sh -- the main job on the embedded default: set up, build, generate the
# sample city and create its database, then show what it holds.
#
# usage: scripts/demo.sh [--scale S]    (default scale 0.02: ~21,000 parcels)
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=0.02
if [ "${1:-}" = "--scale" ]; then SCALE=${2:?--scale needs a value}; fi

scripts/setup.sh build
TGIS=build/gis/cli/tgis
mkdir -p out
$TGIS generate --scale "$SCALE" --seed 1 --force -o out/city.gpkg
rm -f out/city.sqlite out/city.sqlite-wal out/city.sqlite-shm
$TGIS init out/city.sqlite
$TGIS import --rejects out/rejects.csv out/city.sqlite out/city.gpkg
$TGIS info out/city.sqlite
echo
echo "The generated city: out/city.gpkg (open it in QGIS), manifest: out/city.gpkg.manifest.json"
echo "Its database: out/city.sqlite; what the import rejected and repaired: out/rejects.csv"
