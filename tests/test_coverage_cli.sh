#!/usr/bin/env bash
# test_coverage_cli.sh -- `tgis coverage`: exit codes, messages, help, the
# text and JSON summaries, sites, dry runs, and what lands in the database.
#
# usage: test_coverage_cli.sh PATH/TO/tgis
# Each check runs the real binary on a generated city; the script ends with
# "N passed, N failed".
set -u
TGIS=${1:?usage: test_coverage_cli.sh PATH/TO/tgis}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tgis-covcli-XXXXXX")
. "$(dirname "$0")/cli_lib.sh"

# json NAME PYTHON-EXPRESSION : the expression over d = the JSON in $out is true
json() {
  if printf '%s' "$out" | python3 -c "import json,sys,math; d=json.load(sys.stdin); sys.exit(0 if ($2) else 1)" 2>"$TMP/py"
  then ok "$1"; else fail "$1" "$(cat "$TMP/py") in: $(printf '%s' "$out" | head -c 600)"; fi
}

runs() { sqlite3 "$DB" "SELECT count(*) FROM coverage_runs"; }

# --- help and usage ---------------------------------------------------------
run help 0 "$TGIS" coverage --help && {
  expect "help usage line" "$out" "usage: tgis coverage"
  expect "help names the snap limit" "$out" "--max-snap"
  expect "help exit codes" "$out" "2 bad usage"
}
run help-listed 0 "$TGIS" --help && expect "coverage in tgis --help" "$out" "coverage"
run help-cmd 0 "$TGIS" help coverage && expect "tgis help coverage" "$out" "usage: tgis coverage"

DB=$TMP/city.sqlite
"$TGIS" generate --quiet --scale 0.01 --seed 4 -o "$TMP/city.gpkg" >/dev/null 2>&1
"$TGIS" init "$DB" >/dev/null && "$TGIS" import --quiet "$DB" "$TMP/city.gpkg" >/dev/null 2>&1
[ -s "$DB" ] && ok "generated city imported" || fail "generated city imported" "no database"

run no-facility 2 "$TGIS" coverage "$DB" && expect "needs --facility" "$err" "--facility is required"
run bad-mode 2 "$TGIS" coverage "$DB" --facility school --mode fly && expect "bad mode" "$err" "'fly' is not walk or drive"
run bad-method 2 "$TGIS" coverage "$DB" --facility school --method teleport && expect "bad method" "$err" "not network or radius"
run zero-minutes 2 "$TGIS" coverage "$DB" --facility school --minutes 0 && expect "minutes > 0" "$err" "--minutes: '0' is not a number > 0"
run neg-minutes 2 "$TGIS" coverage "$DB" --facility school --minutes -3
run bad-radius 2 "$TGIS" coverage "$DB" --facility school --method radius --radius x && expect "bad radius" "$err" "--radius"
run bad-sites 2 "$TGIS" coverage "$DB" --facility school --sites 0 && expect "bad sites" "$err" "--sites"
run cands-no-sites 2 "$TGIS" coverage "$DB" --facility school --candidates "$TMP/c.csv" && expect "candidates need sites" "$err" "--candidates needs --sites"
run unknown-opt 2 "$TGIS" coverage "$DB" --facility school --frob && expect "unknown option" "$err" "unknown option '--frob'"
run missing-value 2 "$TGIS" coverage "$DB" --facility && expect "option needs value" "$err" "needs a value"
run no-db 2 "$TGIS" coverage --facility school && expect "needs a database" "$err" "expected one database path"
run try-help 2 "$TGIS" coverage "$DB" && expect "points at --help" "$err" "Try 'tgis coverage --help'"

# --- failures (exit 1, nothing written) --------------------------------------
run unknown-kind 1 "$TGIS" coverage "$DB" --facility hospital && {
  expect "unknown kind message" "$err" "unknown facility kind 'hospital' (known: polyclinic, school)"
  expect "says nothing written" "$err" "nothing was written"
}
run missing-db 1 "$TGIS" coverage "$TMP/none.sqlite" --facility school && expect "missing db" "$err" "no such database"
[ ! -e "$TMP/none.sqlite" ] && ok "missing db not created" || fail "missing db not created" "file appeared"
run drive-radius 1 "$TGIS" coverage "$DB" --facility school --mode drive --method radius && expect "drive radius needs radius" "$err" "give the radius"
[ "$(runs)" = "0" ] && ok "failures wrote no run" || fail "failures wrote no run" "$(runs) runs"

# --- runs ----------------------------------------------------------------------
run walk 0 "$TGIS" coverage "$DB" --facility polyclinic --mode walk --minutes 15 && {
  expect "text: run id" "$out" "coverage run 1: polyclinic, walk 15 min, network"
  expect "text: residents line" "$out" "residents "
  expect "text: districts table" "$out" "Yunusobod"
  expect "text: timing" "$out" "load"
  refute "no progress off a terminal" "$err" $'\r'
}
[ "$(runs)" = "1" ] && ok "run stored" || fail "run stored" "$(runs) runs"
n_parcels=$(sqlite3 "$DB" "SELECT count(*) FROM parcels")
n_rows=$(sqlite3 "$DB" "SELECT count(*) FROM coverage_parcels WHERE run_id = 1")
[ "$n_parcels" = "$n_rows" ] && ok "a row for every parcel" || fail "a row for every parcel" "$n_parcels parcels, $n_rows rows"
n_cov=$(sqlite3 "$DB" "SELECT sum(p.residents) FROM coverage_parcels c JOIN parcels p ON p.id = c.parcel_id WHERE c.run_id = 1 AND c.covered")
n_sum=$(sqlite3 "$DB" "SELECT covered_residents FROM coverage_runs WHERE id = 1")
[ -n "$n_cov" ] && [ "$n_cov" = "$n_sum" ] && ok "covered residents add up in SQL" || fail "covered residents add up in SQL" "$n_cov vs $n_sum"
n_bad=$(sqlite3 "$DB" "SELECT count(*) FROM coverage_parcels WHERE run_id = 1 AND covered AND seconds > 900.0000001")
[ "$n_bad" = "0" ] && ok "covered means within 15 min" || fail "covered means within 15 min" "$n_bad parcels"
n_d=$(sqlite3 "$DB" "SELECT count(*) FROM coverage_districts WHERE run_id = 1")
[ "$n_d" = "12" ] && ok "twelve districts" || fail "twelve districts" "$n_d"

run json 0 "$TGIS" coverage "$DB" --facility school --mode drive --minutes 5 --json && {
  json "json parses, run 2" 'd["run_id"] == 2 and d["mode"] == "drive" and d["facility"] == "school"'
  json "json share in 0..1" '0 <= d["covered_share"] <= 1 and d["covered_residents"] <= d["residents"]'
  json "json districts sum" 'sum(x["residents"] for x in d["districts"]) == d["residents"]'
  json "json facilities" 'len(d["facilities_detail"]) == d["facilities"] and all("load" in f for f in d["facilities_detail"])'
  json "json timing" 'd["timing"]["graph"] >= 0 and d["seconds"] > 0'
}
run radius 0 "$TGIS" coverage "$DB" --facility school --method radius --radius 1500 --json && {
  json "radius json" 'd["method"] == "radius" and d["radius_m"] == 1500 and d["unsnapped_parcels"] == 0'
}
radius_cov=$(sqlite3 "$DB" "SELECT covered_parcels FROM coverage_runs WHERE method = 'radius'")
sql_cov=$(sqlite3 -cmd "SELECT load_extension('mod_spatialite')" "$DB" "SELECT count(*) FROM parcels p WHERE EXISTS (SELECT 1 FROM facilities f WHERE f.kind = 'school' AND PtDistWithin(ST_Centroid(p.geom), f.geom, 1500))" 2>/dev/null | tail -1)
if [ -n "$sql_cov" ]; then
  [ "$radius_cov" = "$sql_cov" ] && ok "radius = SpatiaLite PtDistWithin" || fail "radius = SpatiaLite PtDistWithin" "$radius_cov vs $sql_cov"
fi

# --- sites -----------------------------------------------------------------------
run sites 0 "$TGIS" coverage "$DB" --facility polyclinic --minutes 10 --sites 3 --json && {
  json "three sites" 'len(d["sites"]) == 3 and [s["rank"] for s in d["sites"]] == [1, 2, 3]'
  json "gains shrink" 'all(a["gain_residents"] >= b["gain_residents"] > 0 for a, b in zip(d["sites"], d["sites"][1:]))'
  json "sites on public parcels" 'all(s["parcel_id"] for s in d["sites"])'
  json "cumulative coverage" 'd["sites"][-1]["covered_residents"] == d["covered_residents"] + sum(s["gain_residents"] for s in d["sites"])'
}
n_s=$(sqlite3 "$DB" "SELECT count(*) FROM coverage_sites WHERE run_id = (SELECT max(id) FROM coverage_runs)")
[ "$n_s" = "3" ] && ok "sites stored" || fail "sites stored" "$n_s"
# Candidates from a file: one point on top of the first site, one far away.
first=$(printf '%s' "$out" | python3 -c 'import json,sys; s=json.load(sys.stdin)["sites"][0]; print("%.3f,%.3f" % (s["x"], s["y"]))')
printf 'x,y,label\n# a comment\n%s,Here\n0,0,Nowhere\n' "$first" > "$TMP/c.csv"
run cand-file 0 "$TGIS" coverage "$DB" --facility polyclinic --minutes 10 --sites 2 --candidates "$TMP/c.csv" --json && {
  json "file candidate picked" 'len(d["sites"]) == 1 and d["sites"][0]["label"] == "Here" and d["sites"][0]["parcel_id"] is None'
}
printf '1,2,3\nnot a number\n' > "$TMP/bad.csv"
run cand-bad 1 "$TGIS" coverage "$DB" --facility polyclinic --sites 1 --candidates "$TMP/bad.csv" && expect "bad candidates line" "$err" "bad.csv:2: expected x,y[,label]"

# --- dry run, read-only ------------------------------------------------------------
before=$(runs)
run dry 0 "$TGIS" coverage "$DB" --facility school --dry-run && expect "dry run says so" "$out" "dry run, nothing written"
[ "$(runs)" = "$before" ] && ok "dry run writes nothing" || fail "dry run writes nothing" "$before -> $(runs)"
chmod a-w "$DB"
run readonly 1 "$TGIS" coverage "$DB" --facility school && expect "read-only file" "$err" "read-only"
run readonly-dry 0 "$TGIS" coverage "$DB" --facility school --dry-run
chmod u+w "$DB"

# --- no personal data --------------------------------------------------------------
"$TGIS" coverage "$DB" --facility polyclinic --sites 2 --json > "$TMP/all.out" 2>&1
"$TGIS" coverage "$DB" --facility polyclinic --sites 2 >> "$TMP/all.out" 2>&1
if grep -qE '(^|[^0-9])[3-6][0-9]{13}([^0-9]|$)' "$TMP/all.out"; then
  fail "no PINFL in output" "a 14-digit number appears"
else
  ok "no PINFL in output"
fi

rm -rf "$TMP"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
