#!/usr/bin/env bash
# bench/tiles.sh -- tile rendering and serving speed of tgis against
# MapServer and Mapnik on the same generated city, in one run.
#
# usage: bench/tiles.sh            (about 10 minutes on 2 cores)
#
# Environment: BENCH_DIR (work dir, default /tmp/tgis-tiles-bench),
# TGIS_BUILD (a release build dir to use or make, default $BENCH_DIR/build),
# SCALE (city size, default 0.1 = ~105k parcels), N_TILES (default 400),
# REPEATS (runs of each renderer, medians reported; default 3).
#
# What it does:
#  1. installs (apt-get) what is missing: python3-mapscript, mapserver-bin
#     (map2img, shptree), python3-mapnik, mapnik-utils (shapeindex), wrk,
#     gdal-bin, python3-yaml, sqlite3;
#  2. builds tgis (release) and generates the city, tgis init + import;
#  3. exports the same parcels, roads and districts for the peers, already
#     in EPSG:3857 (they never reproject; tgis transforms UTM on the fly), as
#     Shapefiles with each peer's own spatial index (.qix for MapServer,
#     .index for Mapnik) and as a GeoPackage (R-tree): the peers' best case;
#  4. translates data/styles/base.yaml (the theme tgis renders) into a
#     mapfile and a Mapnik XML per zoom (bench/tiles/bench.py);
#  5. renders a fixed list of z15/z16 tiles (seeded, drawn from parcel
#     centroids) with tgis in-process (tiles/bench_tiles, 1 and 2 threads),
#     MapServer in one process (python mapscript), map2img per tile, Mapnik
#     (python), all to 256x256 PNG; per-core figures are tiles per CPU
#     second, so the machine's other load does not count against anyone;
#  6. seeds z15-16 into MBTiles with --jobs 1 and 2;
#  7. serves: cached tiles with wrk (one tile, then a warmed list), uncached
#     rendering through HTTP (distinct tiles), and the server's RSS under
#     load with --cache-mb 16;
#  8. prints everything as one table.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
WORK=${BENCH_DIR:-/tmp/tgis-tiles-bench}
BUILD=${TGIS_BUILD:-$WORK/build}
SCALE=${SCALE:-0.1}
N_TILES=${N_TILES:-400}
REPEATS=${REPEATS:-3}
PY=/usr/bin/python3                  # Debian's: mapscript and mapnik live there
B=$SRC/bench/tiles
mkdir -p "$WORK"
RES=$WORK/results.txt
: > "$RES"
log() { printf '== %s\n' "$*" >&2; }

# ---- 1. packages -------------------------------------------------------------
need=()
for p in python3-mapscript mapserver-bin python3-mapnik mapnik-utils wrk gdal-bin python3-yaml \
         sqlite3 curl; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# ---- 2. tgis and the city ------------------------------------------------------
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$SRC" -Dbuildtype=release >/dev/null
ninja -C "$BUILD" -j2 gis/cli/tgis tiles/bench_tiles >/dev/null
TGIS=$BUILD/gis/cli/tgis
cd "$WORK"
if [ ! -f db.sqlite ] || [ ! -f city-$SCALE.done ]; then
  log "generating the city (scale $SCALE) and importing it"
  rm -f city.gpkg city.gpkg.manifest.json db.sqlite* peers/* city-*.done
  $TGIS generate --quiet --scale "$SCALE" --seed 1 -o city.gpkg
  $TGIS init db.sqlite >/dev/null
  $TGIS import --quiet db.sqlite city.gpkg
  touch city-$SCALE.done
fi
PARCELS=$(sqlite3 db.sqlite "SELECT count(*) FROM parcels")
ROADS=$(sqlite3 db.sqlite "SELECT count(*) FROM roads")
SRID=$(sqlite3 db.sqlite "SELECT srid FROM geometry_columns WHERE f_table_name = 'parcels'")
echo "city parcels=$PARCELS roads=$ROADS srid=$SRID scale=$SCALE" >> "$RES"

# ---- 3. the peers' data: EPSG:3857, spatially indexed ------------------------
mkdir -p peers styles out
if [ ! -f peers/done ]; then
  log "exporting parcels, roads, districts in EPSG:3857 for MapServer and Mapnik"
  rm -f peers/*
  # Only what the style reads (never a personal field). Roads in drawing
  # order, minor classes first, so a renderer drawing in feature order
  # draws them as tgis does layer by layer.
  order="CASE class WHEN 'service' THEN 1 WHEN 'residential' THEN 2 WHEN 'unclassified' THEN 2
         WHEN 'living_street' THEN 2 WHEN 'tertiary' THEN 3 WHEN 'secondary' THEN 4
         WHEN 'primary' THEN 5 WHEN 'trunk' THEN 6 WHEN 'motorway' THEN 6 ELSE 0 END"
  ogr2ogr -f GPKG peers/peers.gpkg db.sqlite -s_srs EPSG:$SRID -t_srs EPSG:3857 -nln parcels \
    -nlt MULTIPOLYGON -sql "SELECT id, land_use, geom FROM parcels"
  ogr2ogr -update -f GPKG peers/peers.gpkg db.sqlite -s_srs EPSG:$SRID -t_srs EPSG:3857 \
    -nln roads -nlt LINESTRING -sql "SELECT id, class, name, geom FROM roads ORDER BY $order, id"
  ogr2ogr -update -f GPKG peers/peers.gpkg db.sqlite -s_srs EPSG:$SRID -t_srs EPSG:3857 \
    -nln districts -nlt MULTIPOLYGON -sql "SELECT id, name, geom FROM districts"
  for l in parcels roads districts; do
    ogr2ogr -f "ESRI Shapefile" peers/$l.shp peers/peers.gpkg $l
    shptree peers/$l.shp >/dev/null        # MapServer's quadtree (.qix)
    shapeindex peers/$l.shp >/dev/null     # Mapnik's (.index)
  done
  ogr2ogr -f CSV /vsistdout/ peers/peers.gpkg -dialect sqlite \
    -sql "SELECT ST_X(ST_Centroid(geom)) AS x, ST_Y(ST_Centroid(geom)) AS y FROM parcels" \
    > peers/centroids.csv
  touch peers/done
fi
$PY "$B/bench.py" tiles peers/centroids.csv "$N_TILES" 1 tiles.txt
for kind in shp gpkg; do
  $PY "$B/bench.py" styles "$SRC/data/styles/base.yaml" "$B/base.map.in" "$WORK/peers" $kind styles 2 png8
done
# MapServer's truecolour PNG (no quantising) as a second figure
mkdir -p styles/rgb
$PY "$B/bench.py" styles "$SRC/data/styles/base.yaml" "$B/base.map.in" "$WORK/peers" shp styles/rgb 2 png24

# ---- 5. rendering ----------------------------------------------------------------
run() {   # name, then the command printing key=value figures
  local name=$1; shift
  for r in $(seq "$REPEATS"); do
    echo "render name=$name $("$@")" >> "$RES"
  done
}
log "tgis in-process, 1 thread (x$REPEATS)"
run "tgis|SpatiaLite (UTM, R-tree)|palette, zlib 2|1" "$BUILD/tiles/bench_tiles" db.sqlite --tiles tiles.txt --rounds 2
log "tgis in-process, 2 threads"
run "tgis|SpatiaLite (UTM, R-tree)|palette, zlib 2|2" "$BUILD/tiles/bench_tiles" db.sqlite --tiles tiles.txt --rounds 2 --threads 2
log "MapServer mapscript (shp, gpkg, shp truecolour)"
run "MapServer mapscript|Shapefile + .qix|PNG8, zlib 2|1" $PY "$B/bench.py" mapscript styles/base-shp-z15.map styles/base-shp-z16.map tiles.txt 1
run "MapServer mapscript|GeoPackage|PNG8, zlib 2|1" $PY "$B/bench.py" mapscript styles/base-gpkg-z15.map styles/base-gpkg-z16.map tiles.txt 1
run "MapServer mapscript|Shapefile + .qix|RGB PNG, zlib 2|1" $PY "$B/bench.py" mapscript styles/rgb/base-shp-z15.map styles/rgb/base-shp-z16.map tiles.txt 1
log "Mapnik (shp, gpkg, shp truecolour)"
run "Mapnik|Shapefile + .index|png8, z=2|1" $PY "$B/bench.py" mapnik styles/base-shp-z15.xml styles/base-shp-z16.xml tiles.txt 1 png8:z=2
run "Mapnik|GeoPackage (sqlite plugin)|png8, z=2|1" $PY "$B/bench.py" mapnik styles/base-gpkg-z15.xml styles/base-gpkg-z16.xml tiles.txt 1 png8:z=2
run "Mapnik|Shapefile + .index|png32, z=2|1" $PY "$B/bench.py" mapnik styles/base-shp-z15.xml styles/base-shp-z16.xml tiles.txt 1 png32:z=2
log "map2img, one process per tile (once)"
rm -rf out/map2img && mkdir -p out/map2img
echo "render name=map2img per tile|Shapefile + .qix|PNG8, zlib 2|1 $($PY "$B/bench.py" map2img styles/base-shp-z15.map styles/base-shp-z16.map tiles.txt out/map2img)" >> "$RES"
# A few tiles of each for the eye.
head -4 tiles.txt > sample.txt
rm -rf out/tgis out/mapserver out/mapnik && mkdir -p out/tgis out/mapserver out/mapnik
"$BUILD/tiles/bench_tiles" db.sqlite --tiles sample.txt --rounds 1 --out out/tgis >/dev/null 2>&1
$PY "$B/bench.py" mapscript styles/base-shp-z15.map styles/base-shp-z16.map sample.txt 1 out/mapserver >/dev/null
$PY "$B/bench.py" mapnik styles/base-shp-z15.xml styles/base-shp-z16.xml sample.txt 1 png8:z=2 out/mapnik >/dev/null

# ---- 6. seeding --------------------------------------------------------------------
for jobs in 1 2; do
  log "seeding z15-16 with --jobs $jobs"
  rm -f seed.mbtiles*
  /usr/bin/time -f "%e %U %S" -o seed.time $TGIS tiles seed db.sqlite --zoom 15-16 --jobs $jobs \
    -o seed.mbtiles >/dev/null 2>&1
  read -r secs user sys < seed.time
  n=$(sqlite3 seed.mbtiles "SELECT count(*) FROM tiles")
  echo "seed jobs=$jobs tiles=$n secs=$secs cpu=$(echo "$user + $sys" | bc)" >> "$RES"
done

# ---- 7. serving -------------------------------------------------------------------
PORT=${PORT:-18931}
SERVER=
stop_server() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null; SERVER=; }
trap stop_server EXIT
start_server() {   # cache MiB
  stop_server
  $TGIS serve db.sqlite --port $PORT --cache-mb "$1" >serve.log 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return 0
    sleep 0.1
  done
  echo "server did not start"; cat serve.log; exit 1
}
sstat() { curl -s "http://127.0.0.1:$PORT/stats" | $PY -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
rps() { awk '/Requests\/sec/ {print $2}'; }
BASE_URL=http://127.0.0.1:$PORT
# Paths: the benchmark's tiles (warmed), and distinct z16/z17 tiles over
# the city that nothing has asked for (uncached).
awk '{printf "/tiles/base/%d/%d/%d.png\n", $1, $2, $3}' tiles.txt > warm.paths
$PY - "$WORK/peers/centroids.csv" > cold.paths <<'PY'
import csv, random, sys
H = 20037508.342789244
seen, out = set(), []
rows = list(csv.DictReader(open(sys.argv[1])))
random.Random(7).shuffle(rows)
for z in (17, 16):
    span = 2 * H / (1 << z)
    for r in rows:
        t = (z, int((float(r["x"]) + H) // span), int((H - float(r["y"])) // span))
        if t not in seen:
            seen.add(t)
            out.append("/tiles/base/%d/%d/%d.png" % t)
for p in out:
    print(p)
PY
cat > paths.lua <<'EOF'
-- wrk: each thread walks its own share of the paths in FILE (one per line)
local counter, threads = 1, {}
function setup(thread) thread:set("id", counter); counter = counter + 1; table.insert(threads, thread) end
function init(args)
  paths = {}
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  step = tonumber(args[2] or "1"); i = id - step
end
function request()
  i = i + step
  if i > #paths then i = (i - 1) % #paths + 1 end
  return wrk.format("GET", paths[i])
end
EOF
log "serving: cached"
start_server 256
one=$(head -1 warm.paths)
curl -sf "$BASE_URL$one" -o /dev/null
r=$(wrk -t2 -c64 -d10s "$BASE_URL$one" | rps)
echo "serve name=cached, one tile rps=$r" >> "$RES"
while read -r p; do curl -sf "$BASE_URL$p" -o /dev/null; done < warm.paths
r=$(wrk -t2 -c64 -d10s -s paths.lua "$BASE_URL" -- "$WORK/warm.paths" 2 | rps)
echo "serve name=cached, $(wc -l < warm.paths) warmed tiles rps=$r" >> "$RES"
log "serving: uncached (distinct tiles)"
start_server 256
m0=$(sstat cache_misses)
out=$(wrk -t2 -c8 -d10s -s paths.lua "$BASE_URL" -- "$WORK/cold.paths" 2)
m1=$(sstat cache_misses)
echo "serve name=uncached, distinct z16/z17 tiles rps=$(echo "$out" | rps) rendered=$((m1 - m0))" >> "$RES"
log "serving: memory with --cache-mb 16 under load"
start_server 16
rss0=$(awk '/VmRSS/ {print $2}' /proc/$SERVER/status)
wrk -t2 -c16 -d15s -s paths.lua "$BASE_URL" -- "$WORK/cold.paths" 2 >/dev/null &
W=$!
peak=0; cmax=0; t0=$SECONDS; mid=0; v=0
while kill -0 $W 2>/dev/null; do
  v=$(awk '/VmRSS/ {print $2}' /proc/$SERVER/status)
  [ "$v" -gt "$peak" ] && peak=$v
  [ $((SECONDS - t0)) -le 7 ] && mid=$peak     # the peak over the first half
  c=$(sstat cache_bytes 2>/dev/null || echo 0)
  [ "$c" -gt "$cmax" ] && cmax=$c
  sleep 0.5
done
wait $W || true
echo "memory rss_start_kib=$rss0 rss_half_kib=$mid rss_peak_kib=$peak rss_end_kib=$v cache_peak_bytes=$cmax cache_max_bytes=$(sstat cache_max_bytes) entries=$(sstat cache_entries)" >> "$RES"
stop_server

# ---- 8. the table -----------------------------------------------------------------
$PY "$B/bench.py" report "$RES"
echo "raw figures: $RES; sample tiles: $WORK/out/{tgis,mapserver,mapnik,map2img}"
