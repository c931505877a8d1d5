#!/usr/bin/env bash
# bench/import.sh -- import throughput of tgis against ogr2ogr on the same
# generated city, in one run. Prints features/s, the ratio and peak memory.
#
# usage: bench/import.sh [SCALE ...]     (default: 1, i.e. >= 1M parcels)
# The first scale is the headline; more scales show that memory stays flat.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${TGIS:-}" ]; then
  scripts/setup.sh build >/dev/null
  TGIS=$PWD/build/gis/cli/tgis
fi
WORK=${BENCH_DIR:-/tmp/tgis-bench}
mkdir -p "$WORK"
SCALES=("$@")
[ ${#SCALES[@]} -gt 0 ] || SCALES=(1)

# peak_rss_mib and seconds of a command: /usr/bin/time -f "%e %M"
measure() {
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || {
    echo "failed: $*"; cat "$WORK/err.txt"; exit 1; }
  read -r secs kib < "$WORK/time.txt"
  echo "$secs $((kib / 1024))"
}

printf '%-8s %-28s %10s %12s %10s\n' scale tool seconds features/s "peak MiB"
for scale in "${SCALES[@]}"; do
  city=$WORK/city-$scale.gpkg
  [ -f "$city" ] || $TGIS generate --quiet --scale "$scale" --seed 1 -o "$city"
  features=$(python3 - "$city.manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print(sum(v["features"] for v in m["layers"].values()))
PY
)
  rm -f "$WORK/ogr.sqlite" "$WORK/tgis.sqlite"*
  # ogr2ogr stops at the first feature of the wrong geometry type (the city
  # has some on purpose), so it reads each layer with a filter on the type;
  # otherwise as the issue names it: SpatiaLite, PROMOTE_TO_MULTI, -makevalid,
  # spatial index on (the SpatiaLite driver's default).
  read -r o_s o_m < <(measure bash -c "
    ogr2ogr -f SQLite -dsco SPATIALITE=YES -nlt PROMOTE_TO_MULTI -makevalid -t_srs EPSG:32642 \
      -where \"ST_GeometryType(geom) IN ('POLYGON','MULTIPOLYGON')\" '$WORK/ogr.sqlite' '$city' districts parcels &&
    ogr2ogr -update -append -nlt PROMOTE_TO_MULTI -makevalid -t_srs EPSG:32642 \
      -where \"ST_GeometryType(geom) = 'LINESTRING'\" '$WORK/ogr.sqlite' '$city' roads utility_lines &&
    ogr2ogr -update -append -makevalid -t_srs EPSG:32642 \
      -where \"ST_GeometryType(geom) = 'POINT'\" '$WORK/ogr.sqlite' '$city' utility_nodes facilities")
  $TGIS init "$WORK/tgis.sqlite" >/dev/null
  read -r t_s t_m < <(measure "$TGIS" import --quiet "$WORK/tgis.sqlite" "$city")
  o_rate=$(python3 -c "print(round($features / $o_s))")
  t_rate=$(python3 -c "print(round($features / $t_s))")
  printf '%-8s %-28s %10s %12s %10s\n' "$scale" "ogr2ogr -makevalid" "$o_s" "$o_rate" "$o_m"
  printf '%-8s %-28s %10s %12s %10s\n' "$scale" "tgis import (validating)" "$t_s" "$t_rate" "$t_m"
  python3 -c "print('%-8s tgis / ogr2ogr throughput: %.2fx  (%d features)' % ('$scale', $o_s / $t_s, $features))"
done
