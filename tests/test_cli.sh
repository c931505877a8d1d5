#!/usr/bin/env bash
# test_cli.sh -- the tgis command-line tool: exit codes, messages, help.
#
# usage: test_cli.sh PATH/TO/tgis
# Each check runs the real binary; the script ends with "N passed, N failed".
set -u
TGIS=${1:?usage: test_cli.sh PATH/TO/tgis}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tgis-cli-XXXXXX")
. "$(dirname "$0")/cli_lib.sh"

# --- top level -------------------------------------------------------------
run help 0 "$TGIS" --help && expect "help lists commands" "$out" "validate"
run version 0 "$TGIS" --version && expect "version" "$out" "tgis 0."
run no-args 2 "$TGIS" && expect "no args shows usage" "$err" "usage: tgis"
run unknown-cmd 2 "$TGIS" frobnicate && expect "unknown command" "$err" "'frobnicate' is not a tgis command"
for cmd in init info import validate generate; do
  run "help-$cmd" 0 "$TGIS" "$cmd" --help && expect "$cmd --help" "$out" "usage: tgis $cmd"
  run "help-cmd-$cmd" 0 "$TGIS" help "$cmd" && expect "help $cmd" "$out" "usage: tgis $cmd"
done

# --- init and info ---------------------------------------------------------
DB=$TMP/city.sqlite
run init 0 "$TGIS" init "$DB" && expect "init says created" "$out" "created"
run init-again 1 "$TGIS" init "$DB" && expect "init refuses existing" "$err" "already exists"
run info 0 "$TGIS" info "$DB" && {
  expect "info schema" "$out" "schema    3"
  expect "info crs" "$out" "EPSG:32642 WGS 84 / UTM zone 42N"
  expect "info lists parcels" "$out" "parcels"
  expect "info empty layer" "$out" "(empty)"
}
run info-json 0 "$TGIS" info --json "$DB" && {
  expect "info json srid" "$out" '"srid": 32642'
  if command -v python3 >/dev/null; then
    if printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["layers"]["parcels"]["count"] == 0' 2>/dev/null
    then ok "info json parses"; else fail "info json parses" "$out"; fi
  fi
}
run info-missing 1 "$TGIS" info "$TMP/nope.sqlite" && expect "info missing file" "$err" "nope.sqlite: no such database"
[ ! -e "$TMP/nope.sqlite" ] && ok "info does not create" || fail "info does not create" "file appeared"
printf 'just some text\n%.0s' $(seq 1 100) > "$TMP/text.sqlite"
run info-not-db 1 "$TGIS" info "$TMP/text.sqlite" && expect "info on text file" "$err" "file is not a database"
run init-srid-4326 1 "$TGIS" init --srid 4326 "$TMP/deg.sqlite" && expect "init geographic srid" "$err" "not a projected CRS"
[ ! -e "$TMP/deg.sqlite" ] && ok "failed init leaves no file" || fail "failed init leaves no file" "file left"
run init-srid-bad 2 "$TGIS" init --srid abc "$TMP/x.sqlite" && expect "init bad srid usage" "$err" "not an EPSG code"
run init-srid-missing 2 "$TGIS" init "$TMP/x.sqlite" --srid && expect "init --srid needs value" "$err" "needs a value"
run init-no-path 2 "$TGIS" init && expect "init needs path" "$err" "expected one database path"
run info-bad-opt 2 "$TGIS" info --frob "$DB" && expect "info unknown option" "$err" "unknown option '--frob'"
run init-srid-32643 0 "$TGIS" init --srid 32643 "$TMP/utm43.sqlite"
run info-32643 0 "$TGIS" info "$TMP/utm43.sqlite" && expect "info other srid" "$out" "EPSG:32643"

# --- validate --------------------------------------------------------------
run pinfl-valid 0 "$TGIS" validate pinfl 31210932040247 31210632040244 && {
  expect "pinfl valid" "$out" "pinfl #2: valid"
  refute "pinfl never echoed" "$out" "3121093"
}
run pinfl-bad 1 "$TGIS" validate pinfl 31210632040245 && {
  expect "pinfl check digit" "$out" "check digit"
  refute "pinfl never echoed (invalid)" "$out$err" "312106320"
}
run pinfl-short 1 "$TGIS" validate pinfl 123 && expect "pinfl length" "$out" "expected 14"
run tin-valid 0 "$TGIS" validate tin "305 652 539" && expect "tin with spaces" "$out" "valid"
run tin-bad 1 "$TGIS" validate tin 105652539 && expect "tin first digit" "$out" "first digit"
run cad-valid 0 "$TGIS" validate cadastre 10:03:07:01:03:0012
run cad-bad 1 "$TGIS" validate cadastre 10:03:07:01:3:0012 && expect "cadastre group" "$out" "group 5"
run soato-valid 0 "$TGIS" validate soato 1726262 1726
run soato-bad 1 "$TGIS" validate soato 1726999 && expect "soato district" "$out" "unknown Tashkent district"
run vin-valid 0 "$TGIS" validate vin 1J9RP1A36A1644345 1M8GDM9AXKP042788
run vin-warn 0 "$TGIS" validate vin WVWZZZ1JZ3W386752 && expect "non-NA vin warns" "$out" "warning"
run vin-bad 1 "$TGIS" validate vin 1J9RP1A37A1644345 && expect "NA vin check" "$out" "check digit"
run validate-kind 2 "$TGIS" validate passport AB123 && expect "unknown kind" "$err" "unknown kind 'passport'"
run validate-none 2 "$TGIS" validate tin && expect "validate needs values" "$err" "at least one value"
printf '305652539\n105652539\n%s\n' "$(head -c 5000 /dev/zero | tr '\0' 7)" > "$TMP/tins.txt"
"$TGIS" validate tin - < "$TMP/tins.txt" > "$TMP/out" 2>&1; rc=$?
[ $rc -eq 1 ] && ok "validate stdin exit" || fail "validate stdin exit" "exit $rc"
[ "$(wc -l < "$TMP/out")" -eq 3 ] && ok "validate stdin one line per value" || fail "validate stdin lines" "$(cat "$TMP/out")"
"$TGIS" validate -q tin 105652539 > "$TMP/out" 2>&1; rc=$?
[ $rc -eq 1 ] && [ ! -s "$TMP/out" ] && ok "validate quiet" || fail "validate quiet" "exit $rc"

# --- generate --------------------------------------------------------------
run generate-no-output 2 "$TGIS" generate --scale 0.001 && expect "generate needs -o" "$err" "no output file"
run generate-bad-scale 2 "$TGIS" generate --scale 0 -o "$TMP/c.gpkg" && expect "generate scale" "$err" "--scale must be"
run generate-bad-seed 2 "$TGIS" generate --seed x -o "$TMP/c.gpkg" && expect "generate seed" "$err" "not a whole number"
run generate 0 "$TGIS" generate --scale 0.001 --seed 7 -o "$TMP/c.gpkg" && {
  [ -s "$TMP/c.gpkg" ] && [ -s "$TMP/c.gpkg.manifest.json" ] && ok "generate writes gpkg and manifest" ||
    fail "generate writes gpkg and manifest" "missing output"
}
cp "$TMP/c.gpkg" "$TMP/c.before"
run generate-exists 1 "$TGIS" generate --scale 0.001 --seed 8 -o "$TMP/c.gpkg" && expect "generate refuses existing" "$err" "--force"
cmp -s "$TMP/c.gpkg" "$TMP/c.before" && ok "refused generate left file alone" || fail "refused generate left file alone" "changed"
run generate-force 0 "$TGIS" generate --scale 0.001 --seed 7 --force -o "$TMP/c.gpkg"
cmp -s "$TMP/c.gpkg" "$TMP/c.before" && ok "generate is deterministic" || fail "generate is deterministic" "bytes differ"

# --- import ------------------------------------------------------------------
CITY=$TMP/import.sqlite
run import-init 0 "$TGIS" init "$CITY"
run import-city 0 "$TGIS" import --json "$CITY" "$TMP/c.gpkg" && {
  expect "import summary json" "$out" '"parcels": {"run_id"'
  expect "import rejects something" "$out" '"rejected": '
}
run import-info 0 "$TGIS" info "$CITY" && expect "info after import" "$out" "districts"
run import-missing 1 "$TGIS" import "$CITY" "$TMP/none.gpkg" && expect "import missing source" "$err" "none.gpkg"
run import-bad-mode 2 "$TGIS" import --mode merge "$CITY" "$TMP/c.gpkg" && expect "import bad mode" "$err" "--mode"
run import-bad-layer 2 "$TGIS" import --layer castles "$CITY" "$TMP/c.gpkg" && expect "import bad layer" "$err" "not a tgis layer"
run import-append-again 0 "$TGIS" import --rejects "$TMP/rej.csv" "$CITY" "$TMP/c.gpkg"
head -1 "$TMP/rej.csv" | grep -q '^layer,source_fid,action,field,reason$' && ok "rejects csv header" || fail "rejects csv header" "$(head -1 "$TMP/rej.csv")"
grep -q 'duplicate cadastre' "$TMP/rej.csv" && ok "re-import rejects known keys" || fail "re-import rejects known keys" "no duplicate in csv"
if grep -qE '[^0-9][3-6][0-9]{13}([^0-9]|$)' "$TMP/rej.csv"; then
  fail "no PINFL in rejects csv" "a 14-digit number appears"
else
  ok "no PINFL in rejects csv"
fi

# Other containers GDAL reads: a zipped Shapefile and FlatGeobuf.
ogr2ogr -f "ESRI Shapefile" "$TMP/shp" "$TMP/c.gpkg" facilities >/dev/null 2>&1
(cd "$TMP/shp" && python3 -c 'import zipfile,glob; z=zipfile.ZipFile("../fac.zip","w"); [z.write(f) for f in glob.glob("facilities.*")]')
ZDB=$TMP/zip.sqlite
"$TGIS" init "$ZDB" >/dev/null
run import-zip 0 "$TGIS" import --layer facilities --json "$ZDB" "$TMP/fac.zip" && expect "zipped shapefile imports" "$out" '"facilities": {"run_id"'
ogr2ogr -f FlatGeobuf "$TMP/roads.fgb" "$TMP/c.gpkg" roads >/dev/null 2>&1
run import-fgb 0 "$TGIS" import --layer roads --json "$ZDB" "$TMP/roads.fgb" && expect "flatgeobuf imports" "$out" '"roads": {"run_id"'

# kill -9 in the middle of a big import leaves the database as it was.
BIG=$TMP/big.gpkg
"$TGIS" generate --quiet --scale 0.1 --seed 3 -o "$BIG" >/dev/null 2>&1
KDB=$TMP/kill.sqlite
"$TGIS" init "$KDB" >/dev/null
"$TGIS" import --quiet "$KDB" "$TMP/c.gpkg" >/dev/null 2>&1
before=$("$TGIS" info --json "$KDB" | grep -o '"count": [0-9]*' | tr '\n' ' ')
rm -f "$TMP/mid.csv"
"$TGIS" import --quiet --rejects "$TMP/mid.csv" "$KDB" "$BIG" >/dev/null 2>&1 &
pid=$!
# Mid-way: the first buffered page of its rejects file has reached the disk.
for _ in $(seq 1 400); do
  [ -s "$TMP/mid.csv" ] && break
  sleep 0.025
done
if kill -9 $pid 2>/dev/null; then ok "killed the import mid-way"; else fail "killed the import mid-way" "it ended first"; fi
wait $pid 2>/dev/null
after=$("$TGIS" info --json "$KDB" | grep -o '"count": [0-9]*' | tr '\n' ' ')
[ -n "$before" ] && [ "$before" = "$after" ] && ok "kill -9 leaves the database as it was" ||
  fail "kill -9 leaves the database as it was" "before: $before after: $after"
run kill-then-import 0 "$TGIS" import --quiet "$KDB" "$BIG"
after=$("$TGIS" info --json "$KDB" | grep -o '"count": [0-9]*' | tr '\n' ' ')
[ "$before" != "$after" ] && ok "import after kill works" || fail "import after kill works" "$after"

# Ctrl-C (SIGINT) in the middle: rolled back, logged as cancelled, exit 1.
rm -f "$TMP/mid.csv"
"$TGIS" import --quiet --rejects "$TMP/mid.csv" "$KDB" "$BIG" >/dev/null 2>"$TMP/int.err" &
pid=$!
# Mid-way: the first buffered page of its rejects file has reached the disk.
for _ in $(seq 1 400); do
  [ -s "$TMP/mid.csv" ] && break
  sleep 0.025
done
kill -INT $pid 2>/dev/null
wait $pid; rc=$?
after_int=$("$TGIS" info --json "$KDB" | grep -o '"count": [0-9]*' | tr '\n' ' ')
[ $rc -eq 1 ] && ok "SIGINT exits 1" || fail "SIGINT exits 1" "exit $rc"
grep -q "cancelled" "$TMP/int.err" && ok "SIGINT says cancelled" || fail "SIGINT says cancelled" "$(cat "$TMP/int.err")"
[ "$after_int" = "$after" ] && ok "SIGINT leaves the database as it was" || fail "SIGINT leaves the database as it was" "$after -> $after_int"
n=$(sqlite3 "$KDB" "SELECT count(*) FROM import_runs WHERE status = 'cancelled'" 2>/dev/null)
[ "${n:-0}" -ge 1 ] && ok "SIGINT run logged as cancelled" || fail "SIGINT run logged as cancelled" "$n"

rm -rf "$TMP"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
