# cli_lib.sh -- the checks the shell tests of the tgis tool share; sourced
# after TMP (a scratch directory) is set. Each check counts into passed or
# failed; the script prints "N passed, N failed" at its end.
passed=0
failed=0

ok()   { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1: $2"; }

# run NAME EXPECTED_EXIT CMD... : captures $out (stdout) and $err (stderr)
run() {
  local name=$1 want=$2
  shift 2
  "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
  local got=$?
  out=$(cat "$TMP/out")
  err=$(cat "$TMP/err")
  if [ "$got" -ne "$want" ]; then
    fail "$name" "exit $got, expected $want; stderr: $err"
    return 1
  fi
  return 0
}

# expect NAME HAYSTACK NEEDLE
expect() {
  case "$2" in
    *"$3"*) ok "$1" ;;
    *) fail "$1" "expected to find '$3' in: $2" ;;
  esac
}

# refute NAME HAYSTACK NEEDLE
refute() {
  case "$2" in
    *"$3"*) fail "$1" "did not expect '$3' in: $2" ;;
    *) ok "$1" ;;
  esac
}
