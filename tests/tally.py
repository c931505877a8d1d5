#!/usr/bin/env python3
"""Sum the test cases of meson test logs into one line: N passed, N failed.

Each test binary prints its own "N passed, N failed"; a binary that crashed
or timed out before printing it counts as one failed case.
"""
import json
import re
import sys

LINE = re.compile(r"^(\d+) passed, (\d+) failed", re.M)


def tally(path):
    passed = failed = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            rec = json.loads(raw)
            counts = LINE.findall(rec.get("stdout") or "")
            ok = rec.get("result") in ("OK", "EXPECTEDFAIL")
            if counts:
                p, fl = map(int, counts[-1])
                passed += p
                failed += fl
                if not ok and fl == 0:
                    failed += 1  # exited badly after a clean tally (sanitizer)
            elif rec.get("result") == "SKIP":
                continue
            else:
                passed += ok
                failed += not ok
    return passed, failed


def main():
    passed = failed = 0
    for path in sys.argv[1:]:
        p, f = tally(path)
        passed += p
        failed += f
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
