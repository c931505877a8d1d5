#!/usr/bin/env bash
# test_viewer.sh -- the web map viewer (tiles/viewer/) in headless Chromium
# against a real `tgis serve` on a generated, imported city.
#
# usage: test_viewer.sh PATH/TO/tgis SOURCE_DIR
# Generates a small city, imports it, starts `tgis serve` on 127.0.0.1 with a
# free port, then tests/viewer_check.js (puppeteer-core driving Debian's
# chromium) browses it like a planner: zoom, pan, click a parcel, switch the
# overlays, search. Screenshots go to the working directory (the build's
# tests/ folder): viewer-*.png.
# Exits 77 (skipped) only when chromium or node is missing; node_modules
# missing is a failure (scripts/setup.sh installs it). Ends with
# "N passed, N failed".
set -u
TGIS=${1:?usage: test_viewer.sh PATH/TO/tgis SOURCE_DIR}
SRC=$(cd "${2:?usage: test_viewer.sh PATH/TO/tgis SOURCE_DIR}" && pwd)
OUT=$PWD
passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1: $2"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
  echo "SKIP: no chromium (apt-get install chromium, or run scripts/setup.sh)"
  exit 77
fi
if ! command -v node >/dev/null; then
  echo "SKIP: no node (apt-get install nodejs npm, or run scripts/setup.sh)"
  exit 77
fi
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
if [ "$NODE_MAJOR" -lt 18 ]; then
  echo "SKIP: node $(node --version) is older than 18, which puppeteer-core needs"
  exit 77
fi
if [ ! -f "$SRC/node_modules/puppeteer-core/package.json" ] ||
   [ ! -f "$SRC/node_modules/leaflet/dist/leaflet.js" ]; then
  fail "node_modules" "no puppeteer-core or leaflet in $SRC/node_modules: run 'npm ci' there (scripts/setup.sh does)"
  finish
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tgis-viewer-XXXXXX")
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- a city ------------------------------------------------------------------
DB=$TMP/city.sqlite
if "$TGIS" generate --scale 0.01 -q -o "$TMP/city.gpkg" >"$TMP/gen.log" 2>&1 &&
   "$TGIS" init "$DB" >"$TMP/init.log" 2>&1 &&
   "$TGIS" import "$DB" "$TMP/city.gpkg" >"$TMP/import.log" 2>&1; then
  ok "generate, init, import a city"
else
  fail "generate, init, import a city" "$(tail -5 "$TMP"/*.log)"
  finish
fi

# A parcel to click: the median residential parcel by id, and a point inside
# it (SpatiaLite's ST_PointOnSurface through GDAL's SQLite dialect, which
# loads SpatiaLite). A facility to search: the one farthest from it.
sql() { ogr2ogr -f CSV /vsistdout/ "$DB" -sql "$1" 2>"$TMP/ogr.err" | tail -n +2 | tr -d '"\r'; }
W="cadastre IS NOT NULL AND land_use = 'residential'"
IFS=, read -r P_CAD P_LON P_LAT < <(sql "SELECT cadastre, ST_X(p) AS lon, ST_Y(p) AS lat FROM
  (SELECT cadastre, ST_Transform(ST_PointOnSurface(geom), 4326) AS p FROM parcels WHERE $W
   ORDER BY id LIMIT 1 OFFSET (SELECT count(*) / 2 FROM parcels WHERE $W))")
IFS=, read -r F_NAME F_LON F_LAT < <(sql "SELECT name, ST_X(ST_Transform(geom, 4326)) AS lon,
  ST_Y(ST_Transform(geom, 4326)) AS lat FROM facilities ORDER BY ST_Distance(geom,
  (SELECT geom FROM parcels WHERE cadastre = '$P_CAD')) DESC, id LIMIT 1")
if [ -n "${P_CAD:-}" ] && [ -n "${P_LAT:-}" ] && [ -n "${F_NAME:-}" ] && [ -n "${F_LAT:-}" ]; then
  ok "parcel $P_CAD at $P_LON,$P_LAT; facility '$F_NAME' at $F_LON,$F_LAT"
else
  fail "pick a parcel and a facility from the database" "$(cat "$TMP/ogr.err")"
  finish
fi

# --- the server --------------------------------------------------------------
PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1",
  () => { console.log(s.address().port); s.close(); });')
URL="http://127.0.0.1:$PORT/"
"$TGIS" serve "$DB" --bind 127.0.0.1 --port "$PORT" --viewer-dir "$SRC/tiles/viewer" \
  --vendor-dir "$SRC/node_modules" >"$TMP/serve.log" 2>&1 </dev/null &
SERVER_PID=$!
# Wait for /healthz (up to 60 s: a sanitizer build starts slowly).
if node -e '
  const url = process.argv[1] + "healthz", end = Date.now() + 60000;
  (async () => {
    for (;;) {
      try {
        const r = await fetch(url);
        if (r.ok && (await r.json()).status === "ok") process.exit(0);
      } catch (e) { /* not listening yet */ }
      if (Date.now() > end) process.exit(1);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();' "$URL" && kill -0 "$SERVER_PID" 2>/dev/null; then
  ok "tgis serve answers /healthz on $URL"
else
  fail "tgis serve answers /healthz on $URL" "$(tail -20 "$TMP/serve.log")"
  finish
fi

# --- the browser ---------------------------------------------------------------
node -e 'const [f, ...v] = process.argv.slice(1); require("fs").writeFileSync(f, JSON.stringify({
  url: v[0], chromium: v[1], out: v[2], style: v[3],
  parcel: { cadastre: v[4], lon: +v[5], lat: +v[6] },
  facility: { name: v[7], lon: +v[8], lat: +v[9] } }, null, 1));' \
  "$TMP/fixture.json" "$URL" "$CHROMIUM" "$OUT" "$SRC/data/styles/base.yaml" \
  "$P_CAD" "$P_LON" "$P_LAT" "$F_NAME" "$F_LON" "$F_LAT"
node "$SRC/tests/viewer_check.js" "$TMP/fixture.json" 2>&1 | tee "$TMP/check.log"
rc=${PIPESTATUS[0]}
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$TMP/check.log" | tail -1)
if [ -n "$line" ]; then
  set -- $line
  passed=$((passed + $1))
  failed=$((failed + $3))
fi
if [ "$rc" -ne 0 ] && { [ -z "$line" ] || [ "${3:-0}" -eq 0 ]; }; then
  fail "viewer_check.js" "exited $rc"
fi

if kill -0 "$SERVER_PID" 2>/dev/null; then
  ok "server still running after the session"
  # Stop it as a service manager would; a sanitizer build reports here.
  kill -TERM "$SERVER_PID"
  for _ in $(seq 1 150); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    fail "server stops on SIGTERM" "still running after 15 s"
  else
    wait "$SERVER_PID"
    src=$?
    SERVER_PID=
    if [ "$src" -eq 0 ] && ! grep -qE 'Sanitizer|runtime error' "$TMP/serve.log"; then
      ok "server stops cleanly on SIGTERM"
    else
      fail "server stops cleanly on SIGTERM" "exit $src; $(grep -m5 -E 'Sanitizer|runtime error' "$TMP/serve.log")"
    fi
  fi
else
  fail "server still running after the session" "$(tail -20 "$TMP/serve.log")"
fi
if [ "$failed" -ne 0 ]; then
  echo "--- last lines of the server's log:"
  tail -20 "$TMP/serve.log"
fi
finish
