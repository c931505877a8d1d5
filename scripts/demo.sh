#!/usr/bin/env bash
# demo.sh -- the main job on the embedded default: set up, build, generate the
# sample city and load it, answer the coverage question and write its report,
# then serve the map viewer.
#
# usage: scripts/demo.sh [--scale S] [--port N] [--no-serve]
#   --scale S    size of the synthetic city (default 0.1: ~105,000 parcels, 6 polyclinics;
#                1 is the whole city, over a million parcels)
#   --port N     port of the viewer on 127.0.0.1 (default 8080)
#   --no-serve   stop after the report instead of serving the viewer
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=0.1
PORT=8080
SERVE=1
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=${2:?--scale needs a value}; shift 2 ;;
    --port) PORT=${2:?--port needs a value}; shift 2 ;;
    --no-serve) SERVE=0; shift ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) echo "demo.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

scripts/setup.sh build
TGIS=build/gis/cli/tgis
mkdir -p out
$TGIS generate --scale "$SCALE" --seed 1 --force -o out/city.gpkg
rm -f out/city.sqlite out/city.sqlite-wal out/city.sqlite-shm
$TGIS init out/city.sqlite
$TGIS import --rejects out/rejects.csv out/city.sqlite out/city.gpkg
$TGIS info out/city.sqlite
echo
# Who reaches a family polyclinic on foot within 15 minutes, along the roads;
# where five new ones would help most. The report reruns nothing: it takes
# the stored run.
$TGIS coverage out/city.sqlite --facility polyclinic --mode walk --minutes 15 --sites 5
$TGIS report coverage out/city.sqlite --run latest -o out/report
echo
echo "The generated city: out/city.gpkg (open it in QGIS), manifest: out/city.gpkg.manifest.json"
echo "Its database: out/city.sqlite; what the import rejected and repaired: out/rejects.csv"
echo "The coverage report: out/report/report.html (+ summary.json, parcels.csv, districts.csv)"
if [ "$SERVE" = 1 ]; then
  echo
  echo "Open http://127.0.0.1:$PORT/ for the map viewer; Ctrl-C stops it."
  exec $TGIS serve out/city.sqlite --port "$PORT"
fi
