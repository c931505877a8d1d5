#!/usr/bin/env bash
# test_trace_cli.sh -- `tgis trace`: help, exit codes, messages, the text
# summary, the JSON (parsed and checked against the database with SQL), and
# no PINFL in any output.
#
# usage: test_trace_cli.sh PATH/TO/tgis
# Each check runs the real binary on a generated city; the script ends with
# "N passed, N failed".
set -u
TGIS=${1:?usage: test_trace_cli.sh PATH/TO/tgis}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tgis-trace-cli-XXXXXX")
. "$(dirname "$0")/cli_lib.sh"

# py NAME SCRIPT [ARGS...]: a python3 check reading stdin; passes on exit 0.
py() {
  local name=$1 script=$2
  shift 2
  if printf '%s' "$out" | python3 -c "$script" "$@" 2>"$TMP/pyerr"; then
    ok "$name"
  else
    fail "$name" "$(cat "$TMP/pyerr")"
  fi
}

if ! command -v python3 >/dev/null; then
  echo "python3 is needed"; exit 77
fi

# --- help and usage ---------------------------------------------------------
run help 0 "$TGIS" trace --help && {
  expect "trace --help" "$out" "usage: tgis trace DB --network"
  expect "help names --closed" "$out" "--closed ID"
}
run help-cmd 0 "$TGIS" help trace && expect "help trace" "$out" "usage: tgis trace"
run main-help 0 "$TGIS" --help && expect "main help lists trace" "$out" "trace"
run no-args 2 "$TGIS" trace && expect "no db" "$err" "expected one database path"
run no-network 2 "$TGIS" trace x.sqlite --fail a && expect "needs --network" "$err" "--network is required"
run no-fail 2 "$TGIS" trace x.sqlite --network water && expect "needs --fail" "$err" "--fail is required"
run bad-radius 2 "$TGIS" trace x.sqlite --network water --fail a --radius -5 &&
  expect "bad radius" "$err" "--radius '-5'"
run bad-option 2 "$TGIS" trace x.sqlite --network water --fail a --frob &&
  expect "unknown option" "$err" "unknown option '--frob'"
run needs-value 2 "$TGIS" trace x.sqlite --network water --fail &&
  expect "option value" "$err" "needs a value"
run missing-db 1 "$TGIS" trace "$TMP/nope.sqlite" --network water --fail a &&
  expect "missing db" "$err" "no such database"

# --- a generated city -----------------------------------------------------------
DB=$TMP/city.sqlite
if ! "$TGIS" generate --scale 0.005 --seed 4 -o "$TMP/city.gpkg" >/dev/null 2>"$TMP/err" ||
   ! "$TGIS" init "$DB" >/dev/null 2>>"$TMP/err" ||
   ! "$TGIS" import "$DB" "$TMP/city.gpkg" >/dev/null 2>>"$TMP/err"; then
  fail "city" "$(cat "$TMP/err")"
  echo "$passed passed, $failed failed"
  exit 1
fi
q() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$DB" "$1"; }
# The first water main out of a source, a gas line, a power main.
WMAIN=$(q "SELECT l.ext_id FROM utility_lines l JOIN utility_nodes n ON n.id = l.from_node
           WHERE l.network = 'water' AND l.kind = 'main' AND n.kind = 'source' ORDER BY l.id LIMIT 1")
GASL=$(q "SELECT ext_id FROM utility_lines WHERE network = 'gas' ORDER BY id LIMIT 1")
PMAIN=$(q "SELECT ext_id FROM utility_lines WHERE network = 'power' AND kind = 'main' ORDER BY id LIMIT 1 OFFSET 20")
JUNC=$(q "SELECT ext_id FROM utility_nodes WHERE network = 'water' AND kind = 'junction' ORDER BY id LIMIT 1")

run unknown-network 1 "$TGIS" trace "$DB" --network sewage --fail "$WMAIN" &&
  expect "unknown network" "$err" "unknown network 'sewage'"
run unknown-id 1 "$TGIS" trace "$DB" --network water --fail water-l999999 &&
  expect "unknown id named" "$err" "water-l999999: no line or node of the water network"
run other-network 1 "$TGIS" trace "$DB" --network water --fail "$GASL" &&
  expect "id of another network" "$err" "$GASL is a line of the gas network, not of water"
run closed-junction 1 "$TGIS" trace "$DB" --network water --fail "$WMAIN" --closed "$JUNC" &&
  expect "closed must be a valve" "$err" "closed valve $JUNC is a junction"

run text 0 "$TGIS" trace "$DB" --network water --fail "$WMAIN" && {
  expect "text names the network" "$out" "water network:"
  expect "text names the failure" "$out" "failed: $WMAIN (main line)"
  expect "text failure row" "$out" "by the failure"
  expect "text isolation row" "$out" "while isolating"
  expect "text valves" "$out" "valves to close ("
  expect "text segment" "$out" "isolated segment:"
}
run list 0 "$TGIS" trace "$DB" --network water --fail "$WMAIN" --list && {
  expect "list parcels by cadastre" "$out" " residents  via water-n"
  cp "$TMP/out" "$TMP/list.txt"
}

# JSON: parses; totals agree with the lists; isolation holds the failure;
# the parcels' residents are the database's (plain SQL over cadastre numbers).
run json 0 "$TGIS" trace "$DB" --network water --fail "$WMAIN" --json && {
  cp "$TMP/out" "$TMP/water.json"
  py "json parses, totals match lists" '
import json, sys
d = json.load(sys.stdin)
for sc in ("failure", "isolation"):
    s = d[sc]; t = s["totals"]
    assert t["nodes"] == len(s["nodes"]) and t["lines"] == len(s["lines"]), sc
    assert t["consumers"] == len(s["consumers"]) and t["parcels"] == len(s["parcels"]), sc
    assert t["residents"] == sum(p["residents"] for p in s["parcels"]), sc
assert d["failed"] == {"id": sys.argv[1], "type": "line", "kind": "main"}, d["failed"]
assert d["failure"]["totals"]["nodes"] > 0
'  "$WMAIN"
  py "isolation cuts off what the failure does and more" '
import json, sys
d = json.load(sys.stdin)
f, i = d["failure"], d["isolation"]
for key in ("nodes", "lines", "parcels"):
    k = "cadastre" if key == "parcels" else "id"
    assert {x[k] for x in f[key]} <= {x[k] for x in i[key]}, key
assert set(f["consumers"]) <= set(i["consumers"])
assert len(d["valves_to_close"]) > 0
assert all(v["kind"] in ("valve", "switch") for v in d["valves_to_close"])
assert any(n["id"] for n in d["segment"]["nodes"])
'
  py "residents match SQL" '
import json, sqlite3, sys
d = json.load(sys.stdin)
db = sqlite3.connect(sys.argv[1])
for sc in ("failure", "isolation"):
    cads = [p["cadastre"] for p in d[sc]["parcels"]]
    got = 0
    for k in range(0, len(cads), 500):
        part = cads[k:k + 500]
        got += db.execute("SELECT COALESCE(SUM(residents), 0) FROM parcels WHERE cadastre IN (%s)"
                          % ",".join("?" * len(part)), part).fetchone()[0]
    assert got == d[sc]["totals"]["residents"], (sc, got, d[sc]["totals"]["residents"])
    assert len(set(cads)) == len(cads)
' "$DB"
}
run json-power 0 "$TGIS" trace "$DB" --network power --fail "$PMAIN" --json && {
  cp "$TMP/out" "$TMP/power.json"
  py "power isolates with switches" '
import json, sys
d = json.load(sys.stdin)
assert d["network"] == "power"
assert all(v["kind"] == "switch" for v in d["valves_to_close"]), d["valves_to_close"]
'
}
VALVE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["valves_to_close"][0]["id"])' "$TMP/water.json")
run closed 0 "$TGIS" trace "$DB" --network water --fail "$WMAIN" --closed "$VALVE" --json && {
  py "an already closed valve is not to close" '
import json, sys
d = json.load(sys.stdin)
assert sys.argv[1] not in [v["id"] for v in d["valves_to_close"]]
' "$VALVE"
}

# --- no PINFL anywhere ------------------------------------------------------------
python3 -c 'import sqlite3,sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute("SELECT pinfl FROM parcel_owners")]' "$DB" > "$TMP/pinfls"
if [ "$(wc -l < "$TMP/pinfls")" -lt 100 ]; then
  fail "pinfls to look for" "only $(wc -l < "$TMP/pinfls") owners"
else
  ok "pinfls to look for"
fi
cat "$TMP/list.txt" "$TMP/water.json" "$TMP/power.json" > "$TMP/all.txt"
if grep -qFf "$TMP/pinfls" "$TMP/all.txt"; then
  fail "no PINFL in output" "$(grep -oFf "$TMP/pinfls" "$TMP/all.txt" | head -1 | cut -c1-4)..."
else
  ok "no PINFL in output"
fi
if grep -qE '(^|[^0-9])[0-9]{14}([^0-9]|$)' "$TMP/all.txt"; then
  fail "no 14-digit numbers in output" "found one"
else
  ok "no 14-digit numbers in output"
fi

rm -rf "$TMP"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
