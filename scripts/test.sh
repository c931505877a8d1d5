#!/usr/bin/env bash
# test.sh -- run every test: a normal build and an AddressSanitizer +
# UndefinedBehaviorSanitizer build, both through `meson test`. Ends with one
# line "N passed, N failed" summing every test case of both builds.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh build || exit 1
if [ ! -f build-asan/build.ninja ]; then
  meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined \
    -Db_lundef=false >/dev/null || exit 1
fi
ninja -C build-asan >/dev/null || exit 1

# Leaks inside GDAL/PROJ/SpatiaLite's own one-time initialisation are not ours.
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

status=0
for b in build build-asan; do
  echo "== meson test ($b)"
  meson test -C "$b" --print-errorlogs --num-processes 2 || status=1
done

python3 tests/tally.py build/meson-logs/testlog.json build-asan/meson-logs/testlog.json || status=1
exit $status
