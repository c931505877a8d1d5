#!/usr/bin/env bash
# bench/coverage.sh -- the coverage question (walk 15 min to the nearest
# polyclinic: snap every parcel, reach along the roads, nearest facility and
# time per parcel, covered share per district) answered three ways on the
# same generated city in one run: `tgis coverage`, SpatiaLite SQL with
# VirtualRouting, and pgRouting where installed. Prints stage times, the
# SpatiaLite/tgis ratio, covered shares and how far the answers agree.
#
# usage: bench/coverage.sh [SCALE]        (default 1: >= 1M parcels, 62 polyclinics)
#
# Environment: BUILD (default build-release, configured -Dbuildtype=release
# if missing), BENCH_DIR (default /tmp/tgis-bench; the city GeoPackage is
# shared with bench/import.sh), RUNS (timed tgis runs of each kind, default 3).
# What each route does, exactly: bench/coverage/spatialite.py and
# bench/coverage/pgrouting.py (their docstrings); the checks: compare.py.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
SCALE=${1:-1}
RUNS=${RUNS:-3}
BUILD=${BUILD:-build-release}
case "$BUILD" in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
BENCH_DIR=${BENCH_DIR:-/tmp/tgis-bench}
WORK=$BENCH_DIR/coverage-$SCALE
PY=/usr/bin/python3   # Debian's: its sqlite3 module can load mod_spatialite
mkdir -p "$WORK"

[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$SRC" -Dbuildtype=release >/dev/null
ninja -C "$BUILD" -j2 gis/cli/tgis analytics/libtgis_analytics.a gis/libtgis_core.a >/dev/null
TGIS=$BUILD/gis/cli/tgis
$PY -c "import sqlite3; c = sqlite3.connect(':memory:'); c.enable_load_extension(True);
c.load_extension('mod_spatialite')" 2>/dev/null || {
  echo "coverage.sh: $PY cannot load mod_spatialite (apt-get install libsqlite3-mod-spatialite)" >&2
  exit 1; }

say() { printf '%s\n' "$*" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_START=$(loadavg)

# ---- the city -----------------------------------------------------------------------
city=$BENCH_DIR/city-$SCALE.gpkg
if [ ! -f "$city" ]; then
  say "generating the city (scale $SCALE)"
  "$TGIS" generate --quiet --scale "$SCALE" --seed 1 -o "$city"
fi
say "importing"
rm -f "$WORK/db.sqlite" "$WORK/db.sqlite-wal" "$WORK/db.sqlite-shm"
"$TGIS" init "$WORK/db.sqlite" >/dev/null
"$TGIS" import --quiet "$WORK/db.sqlite" "$city"

# ---- 1. tgis ----------------------------------------------------------------------------
rm -f "$WORK"/tgis-run-* "$WORK"/tgis-pin-* "$WORK"/tgis-dry-*
tgis_run() {  # NAME [--dry-run] [taskset args...]
  local name=$1 dry=; shift
  if [ "${1:-}" = --dry-run ]; then dry=--dry-run; shift; fi
  /usr/bin/time -v -o "$WORK/$name.time" "$@" "$TGIS" coverage "$WORK/db.sqlite" $dry \
    --facility polyclinic --mode walk --minutes 15 --json >"$WORK/$name.json" 2>"$WORK/$name.err" || {
    say "tgis coverage failed:"; cat "$WORK/$name.err" >&2; exit 1; }
}
say "tgis coverage: $RUNS runs, $RUNS on one core, $RUNS on one core writing nothing (--dry-run)"
for i in $(seq "$RUNS"); do tgis_run "tgis-run-$i"; done
for i in $(seq "$RUNS"); do tgis_run "tgis-pin-$i" taskset -c 0; done
for i in $(seq "$RUNS"); do tgis_run "tgis-dry-$i" --dry-run taskset -c 0; done

# ---- 2. SpatiaLite ----------------------------------------------------------------------------
say "SpatiaLite: noding in SQL, CreateRouting, R-tree snapping, isochrones, joins"
$PY bench/coverage/spatialite.py "$WORK/db.sqlite" "$WORK/sl.sqlite" "$WORK/sl.json"

# tgis's node times from the same start nodes, for the node-to-node check.
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DGEOS_USE_ONLY_R_API \
  -I"$BUILD/gis" -I"$SRC/gis" -I"$SRC/analytics" bench/coverage/node_times.c \
  -Wl,--start-group "$BUILD/analytics/libtgis_analytics.a" "$BUILD/gis/libtgis_core.a" \
  -lgeos_c -lproj -lspatialite -lsqlite3 -lm -Wl,--end-group -o "$WORK/node_times"
$PY - "$WORK/sl.sqlite" >"$WORK/sources.txt" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for x, y, a in c.execute("SELECT n.x, n.y, f.access_s FROM fnode f JOIN wnodes n ON n.id = f.node "
                         "ORDER BY f.fidx"):
    print("%.2f %.2f %.17g" % (x, y, a))
EOF
"$WORK/node_times" "$WORK/db.sqlite" "$WORK/sources.txt" >"$WORK/node_times.txt"

# ---- 3. pgRouting ---------------------------------------------------------------------------------
mkdir -p "$WORK/pg"
rm -f "$WORK/pg/pg.json" "$WORK/pg/skipped"
started_pg=
stop_pg() { [ -z "$started_pg" ] || pg_ctlcluster "$pg_ver" "$pg_name" stop; started_pg=; }
trap stop_pg EXIT
pg_skip() { echo "$*" >"$WORK/pg/skipped"; say "pgRouting skipped: $*"; }
if ! command -v pg_lsclusters >/dev/null || [ "$(id -u)" != 0 ]; then
  pg_skip "no PostgreSQL (or not root to run psql as postgres)"
else
  read -r pg_ver pg_name _ pg_status _ < <(pg_lsclusters -h | head -1) || true
  if [ -z "${pg_ver:-}" ]; then
    pg_skip "no PostgreSQL cluster"
  else
    if [ "$pg_status" != online ]; then
      pg_ctlcluster "$pg_ver" "$pg_name" start && started_pg=1
    fi
    if [ "$(runuser -u postgres -- psql -XAtc \
          "SELECT count(*) FROM pg_available_extensions WHERE name IN ('pgrouting', 'postgis')" 2>/dev/null)" = 2 ]; then
      say "pgRouting: KNN snapping, pgr_drivingDistance, joins"
      $PY bench/coverage/pgrouting.py "$WORK/sl.sqlite" "$WORK/pg" "$WORK/pg/pg.json"
    else
      pg_skip "pgRouting or PostGIS not installed (apt-get install postgresql-$pg_ver-pgrouting postgresql-$pg_ver-postgis-3)"
    fi
    stop_pg
  fi
fi

echo "$LOAD_START at the start, $(loadavg) at the end, $(nproc) cores" >"$WORK/load.txt"
$PY bench/coverage/compare.py "$WORK"
