#!/usr/bin/python3
"""test_report.py -- `tgis report coverage` for real: a generated city, a
coverage run, and every file of the report read back and checked against
the result tables of the database (read here with Python's sqlite3):
row counts, shares, the summary, the inline map (decoded: its size and
colours), the SVG chart (one bar per district, the stored shares), the
tables, CSV quoting of names with commas, quotes and Cyrillic, no PINFL
anywhere, the page in headless Chromium (its screenshot not blank), a
stored run's map showing that run, files replaced whole, and the errors:
unknown facility kind, missing run, unwritable directory (exit 1), bad
usage (exit 2).

usage: test_report.py PATH/TO/tgis
Ends with "N passed, N failed". Chromium is required (setup installs it);
only its absence skips the browser checks (exit 77 if nothing else ran).
"""
import base64
import csv
import io
import json
import os
import pty
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from html.parser import HTMLParser

import numpy as np
from osgeo import gdal

TGIS = sys.argv[1]
gdal.UseExceptions()
TMP = tempfile.mkdtemp(prefix="tgis-report-")
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + name)
    else:
        failed += 1
        print("FAIL %s: %s" % (name, str(detail)[:600]))
    return cond


def run(*args, timeout=300):
    return subprocess.run([TGIS] + list(args), capture_output=True, text=True, timeout=timeout)


def spatialite(path):
    con = sqlite3.connect(path)
    con.enable_load_extension(True)
    con.load_extension("mod_spatialite")
    return con


# ---- PNGs decoded by GDAL (Debian's gdal-bin brings python3-gdal and numpy) ----

def png_decode(data):
    """(width, height, RGBA array of shape (h, w, 4)) of PNG bytes."""
    path = "/vsimem/test_report_%d.png" % id(data)
    gdal.FileFromMemBuffer(path, bytes(data))
    try:
        ds = gdal.Open(path)
        assert ds.GetDriver().ShortName == "PNG", ds.GetDriver().ShortName
        w, h, n = ds.RasterXSize, ds.RasterYSize, ds.RasterCount
        ct = ds.GetRasterBand(1).GetColorTable()
        if n == 1 and ct is not None:
            lut = np.array([ct.GetColorEntry(i) for i in range(ct.GetCount())], dtype=np.uint8)
            rgba = lut[ds.GetRasterBand(1).ReadAsArray()]
        else:
            arr = ds.ReadAsArray().astype(np.uint8)
            arr = arr[None] if arr.ndim == 2 else arr
            opaque = np.full((1, h, w), 255, np.uint8)
            arr = {1: lambda: np.concatenate([arr, arr, arr, opaque]),
                   2: lambda: np.concatenate([arr[:1], arr[:1], arr[:1], arr[1:]]),
                   3: lambda: np.concatenate([arr, opaque]),
                   4: lambda: arr}[arr.shape[0]]()
            rgba = np.moveaxis(arr, 0, -1)
        ds = None
        return w, h, np.ascontiguousarray(rgba)
    finally:
        gdal.Unlink(path)


def colour_stats(rgba, green=False):
    """(distinct colours, share of the commonest, share of strong red); with
    green=True the share of green (the short travel times) instead of red."""
    packed = rgba.reshape(-1, 4).view(np.uint32).reshape(-1)
    _, counts = np.unique(packed, return_counts=True)
    r, g, b, a = (rgba[..., i].astype(int) for i in range(4))
    if green:
        red = ((g > r + 25) & (g > b + 40) & (a > 200)).mean()
    else:
        red = ((r > 180) & (g < 90) & (b < 90) & (a > 200)).mean()
    return len(counts), counts.max() / packed.size, float(red)


class TagBalance(HTMLParser):
    """Checks that every non-void element is closed in order."""
    VOID = {"meta", "img", "br", "hr", "link", "input", "line", "rect", "col"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in self.VOID and (not self.stack or self.stack[-1] != tag):
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes %s" % (tag, self.stack[-1:] or "nothing"))
        else:
            self.stack.pop()


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def near(a, b, tol=1e-9):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def num(s):
    return None if s == "" else float(s)


# ---- the checks ---------------------------------------------------------------

def check_report(out, db, label):
    """Every file of the report in `out` against the database; returns the
    decoded map (w, h, rows) and the run id."""
    names = sorted(os.listdir(out))
    check(label + ": the five files", names == ["districts.csv", "facilities.csv",
                                                "parcels.csv", "report.html", "summary.json"],
          names)
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    summary = json.load(open(os.path.join(out, "summary.json"), encoding="utf-8"))
    rid = summary["run"]["id"]
    row = con.execute("SELECT * FROM coverage_runs WHERE id = ?", (rid,)).fetchone()
    check(label + ": summary.json names a stored run", row is not None, rid)
    bad = [k for k in row.keys() if k not in summary["run"] or summary["run"][k] != row[k]]
    check(label + ": summary.json's run equals its coverage_runs row, column by column "
          "(%d columns)" % len(row.keys()), not bad,
          [(k, summary["run"].get(k), row[k]) for k in bad])

    # parcels.csv
    parcels = read_csv(os.path.join(out, "parcels.csv"))
    n_db = con.execute("SELECT count(*) FROM coverage_parcels WHERE run_id = ?", (rid,)).fetchone()[0]
    check(label + ": parcels.csv has a row per parcel of the run",
          len(parcels) == n_db == row["parcels"], (len(parcels), n_db, row["parcels"]))
    check(label + ": parcels.csv columns",
          list(parcels[0].keys()) == ["parcel_id", "cadastre", "district", "residents",
                                      "facility_id", "facility", "minutes", "metres", "snap_m",
                                      "covered", "reachable", "e2sfca"], list(parcels[0].keys()))
    covered = [p for p in parcels if p["covered"] == "1"]
    check(label + ": covered parcels and residents add up to the run's",
          len(covered) == row["covered_parcels"] and
          sum(int(p["residents"]) for p in covered) == row["covered_residents"],
          (len(covered), row["covered_parcels"]))
    dbp = {r[0]: r for r in con.execute(
        "SELECT c.parcel_id, c.facility_id, c.seconds, c.metres, c.covered, p.cadastre, "
        "p.district, p.residents, f.name FROM coverage_parcels c JOIN parcels p ON p.id = "
        "c.parcel_id LEFT JOIN facilities f ON f.id = c.facility_id WHERE c.run_id = ?", (rid,))}
    mism = []
    for p in parcels:
        d = dbp.get(int(p["parcel_id"]))
        if d is None:
            mism.append(("missing", p["parcel_id"]))
            continue
        mins = None if d[2] is None else d[2] / 60.0
        if (p["cadastre"] != (d[5] or "") or p["district"] != (d[6] or "") or
                int(p["residents"]) != d[7] or p["facility"] != (d[8] or "") or
                p["facility_id"] != ("" if d[1] is None else str(d[1])) or
                p["minutes"] != ("" if mins is None else "%.2f" % mins) or
                p["metres"] != ("" if d[3] is None else "%.1f" % d[3]) or
                int(p["covered"]) != d[4]):
            mism.append((p, tuple(d)))
    check(label + ": every parcel row agrees with the database (numbers as printf "
          "rounds them)", not mism, mism[:3])

    # districts.csv
    districts = read_csv(os.path.join(out, "districts.csv"))
    dbd = {(r["soato"] or ""): r for r in con.execute(
        "SELECT c.*, d.name FROM coverage_districts c LEFT JOIN districts d ON d.soato = c.soato "
        "WHERE c.run_id = ?", (rid,))}
    check(label + ": districts.csv has a row per coverage_districts row",
          len(districts) == len(dbd) and {d["soato"] for d in districts} == set(dbd),
          (len(districts), len(dbd)))
    bad = [d for d in districts if d["soato"] in dbd and not (
        near(num(d["share"]), dbd[d["soato"]]["share"], 1e-12) and
        int(d["residents"]) == dbd[d["soato"]]["residents"] and
        int(d["covered_residents"]) == dbd[d["soato"]]["covered_residents"] and
        near(num(d["e2sfca"]), dbd[d["soato"]]["e2sfca"], 1e-12) and
        d["name"] == (dbd[d["soato"]]["name"] or ""))]
    check(label + ": districts.csv shares, residents and names agree with the database",
          not bad, bad[:3])

    # facilities.csv
    facs = read_csv(os.path.join(out, "facilities.csv"))
    dbf = {r["facility_id"]: r for r in con.execute(
        "SELECT c.*, f.name FROM coverage_facilities c LEFT JOIN facilities f ON "
        "f.id = c.facility_id WHERE c.run_id = ?", (rid,))}
    check(label + ": facilities.csv has a row per facility of the run",
          len(facs) == len(dbf) == row["facilities"], (len(facs), len(dbf)))
    bad = [f for f in facs if not (
        f["name"] == dbf[int(f["facility_id"])]["name"] and
        int(f["catchment_residents"]) == dbf[int(f["facility_id"])]["catchment_residents"] and
        near(num(f["load"]), dbf[int(f["facility_id"])]["load_ratio"], 1e-12))]
    check(label + ": facilities.csv names, catchments and loads agree", not bad, bad[:3])
    check(label + ": overloaded facilities counted as the run counts them",
          sum(f["overloaded"] == "1" for f in facs) == row["facilities_overloaded"])

    # report.html
    html = open(os.path.join(out, "report.html"), encoding="utf-8").read()
    tb = TagBalance()
    tb.feed(html)
    tb.close()
    check(label + ": report.html's elements are balanced", not tb.errors and not tb.stack,
          (tb.errors[:3], tb.stack))
    external = re.findall(r'(?:src|href)\s*=\s*"(?!data:)[^"]*"|url\(|<script|<link|@import',
                          html)
    check(label + ": report.html loads nothing from outside", not external, external[:3])
    imgs = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" width="(\d+)" '
                      r'height="(\d+)"', html)
    check(label + ": one inline PNG map", len(imgs) == 1 and html.count("<img") == 1,
          len(imgs))
    w, h, rows = png_decode(base64.b64decode(imgs[0][0], validate=True))
    check(label + ": the map decodes to the stated size", (w, h) == (int(imgs[0][1]),
          int(imgs[0][2])) == (summary["report"]["map"]["width"],
                               summary["report"]["map"]["height"]) and max(w, h) >= 600,
          (w, h, imgs[0][1:]))
    n_colours, commonest, _ = colour_stats(rows)
    check(label + ": the map is not blank (%d colours, commonest %.0f%%)" %
          (n_colours, 100 * commonest), n_colours >= 16 and commonest < 0.8)
    svg = re.findall(r"<svg[^>]*>.*?</svg>", html, re.S)
    bars = re.findall(r'<rect class="bar"[^>]*data-soato="([^"]*)" data-share="([^"]*)"',
                      svg[0] if svg else "")
    check(label + ": one <svg> chart with one bar per district",
          len(svg) == 1 and len(bars) == len(dbd) and {b[0] for b in bars} == set(dbd),
          (len(svg), len(bars), len(dbd)))
    check(label + ": each bar shows its district's stored share",
          all(near(num(s), dbd[k]["share"], 2e-6) for k, s in bars), bars)
    for sec in ("worst", "facilities", "sites", "params", "map", "districts"):
        check(label + ": section #%s" % sec, 'id="%s"' % sec in html)
    sites = con.execute("SELECT rank, label, gain_residents FROM coverage_sites WHERE "
                        "run_id = ? ORDER BY rank", (rid,)).fetchall()
    m = re.search(r'<section id="sites">(.*?)</section>', html, re.S)
    site_rows = re.findall(r"<tr><td class=\"n\">(\d+)</td><td>([^<]*)</td>",
                           m.group(1) if m else "")
    check(label + ": the sites table lists the stored sites in rank order",
          [(int(a), b) for a, b in site_rows] == [(r[0], r[1]) for r in sites] and
          len(summary["sites"]) == len(sites), (site_rows, list(map(tuple, sites))))
    check(label + ": the page states the run and its threshold",
          ("Coverage run %d" % rid) in html and ("%g" % row["minutes"]) in html)
    leftovers = [n for n in os.listdir(out) if n.startswith(".")]
    check(label + ": no temporary file left", not leftovers, leftovers)
    con.close()
    return (w, h, rows), rid


def check_no_pinfl(out, pinfls, label):
    found = []
    for name in os.listdir(out):
        text = open(os.path.join(out, name), "rb").read().decode("utf-8", "replace")
        found += [(name, d) for d in re.findall(r"(?<!\d)\d{14}(?!\d)", text) if d in pinfls]
        # base64 could hide digits: decode the inline map too and look in its bytes.
        for b64 in re.findall(r"base64,([A-Za-z0-9+/=]+)", text):
            raw = base64.b64decode(b64)
            found += [(name + " (map)", p) for p in pinfls if p.encode() in raw]
    check(label + ": no PINFL of parcel_owners in any file (%d PINFLs looked for)" %
          len(pinfls), not found, found[:3])


def screenshot(html_path, shot):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("skip chromium: not installed")
        return None
    r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", "--screenshot=" + shot, "--window-size=1200,2000",
                        "file://" + os.path.abspath(html_path)],
                       capture_output=True, text=True, timeout=180)
    return r


def main():
    global passed, failed
    gpkg, db = os.path.join(TMP, "city.gpkg"), os.path.join(TMP, "city.sqlite")
    r = run("generate", "-q", "--scale", "0.01", "-o", gpkg)
    assert r.returncode == 0, r.stderr
    assert run("init", db).returncode == 0
    r = run("import", "-q", db, gpkg)
    assert r.returncode == 0, r.stderr

    # Names a CSV must quote and an HTML page must escape: a comma, quotes,
    # Cyrillic, markup.
    fac_name = 'Поликлиника №2, "Центр" <b>&'
    dist_name = 'Yunusobod, "North"'
    con = spatialite(db)
    con.execute("UPDATE facilities SET name = ? WHERE id = (SELECT min(id) FROM facilities "
                "WHERE kind = 'polyclinic')", (fac_name,))
    con.execute("UPDATE districts SET name = ? WHERE soato = '1726266'", (dist_name,))
    con.commit()
    pinfls = {r[0] for r in con.execute("SELECT pinfl FROM parcel_owners")}
    con.close()
    assert pinfls, "the generated city has owners"

    def runs():
        c = sqlite3.connect(db)
        n = c.execute("SELECT count(*) FROM coverage_runs").fetchone()[0]
        c.close()
        return n

    # ---- usage (exit 2) ------------------------------------------------------
    out = os.path.join(TMP, "out")
    r = run("report", "--help")
    check("report --help", r.returncode == 0 and "usage: tgis report coverage" in r.stdout,
          r.stderr)
    for args, msg in ((["report"], "which report"),
                      (["report", "frob", db, "-o", out], "'frob' is not a report"),
                      (["report", "coverage", db], "-o DIR is required"),
                      (["report", "coverage", "-o", out], "expected one database path"),
                      (["report", "coverage", db, "--run", "abc", "-o", out], "not a run id"),
                      (["report", "coverage", db, "--run", "1", "--facility", "school", "-o",
                        out], "--facility applies to a new analysis"),
                      (["report", "coverage", db, "--minutes", "0", "-o", out], "--minutes"),
                      (["report", "coverage", db, "--mode", "fly", "-o", out], "--mode"),
                      (["report", "coverage", db, "--map-px", "100", "-o", out], "--map-px"),
                      (["report", "coverage", db, "--bogus", "-o", out], "unknown option")):
        r = run(*args)
        check("usage: %s -> exit 2" % " ".join(args[1:3] + args[4:6]),
              r.returncode == 2 and msg in r.stderr, (r.returncode, r.stderr))
    check("usage errors write nothing", not os.path.exists(out) and runs() == 0)

    # ---- bad input (exit 1) ----------------------------------------------------
    r = run("report", "coverage", db, "--facility", "hospital", "-o", out)
    check("unknown facility kind: exit 1, named", r.returncode == 1 and
          "unknown facility kind 'hospital'" in r.stderr, (r.returncode, r.stderr))
    check("unknown facility kind: no run stored, no report file", runs() == 0 and (
          not os.path.exists(out) or os.listdir(out) == []))
    r = run("report", "coverage", db, "--run", "999", "-o", out)
    check("missing run: exit 1, named", r.returncode == 1 and "no coverage run 999" in r.stderr,
          (r.returncode, r.stderr))
    afile = os.path.join(TMP, "afile")
    open(afile, "w").write("not a directory\n")
    r = run("report", "coverage", db, "-o", os.path.join(afile, "sub"))
    check("unwritable DIR (under a file): exit 1, the path named",
          r.returncode == 1 and afile in r.stderr and "Not a directory" in r.stderr,
          (r.returncode, r.stderr))
    check("unwritable DIR: checked before the analysis (no run stored)", runs() == 0)
    r = run("report", "coverage", db, "-o", afile)
    check("DIR that is a file: exit 1", r.returncode == 1 and "not a directory" in r.stderr,
          r.stderr)
    if os.geteuid() != 0:
        ro = os.path.join(TMP, "ro")
        os.mkdir(ro, 0o555)
        r = run("report", "coverage", db, "-o", ro)
        check("read-only DIR: exit 1, named", r.returncode == 1 and ro in r.stderr and
              "Permission denied" in r.stderr, r.stderr)

    # ---- a drive run, then the main report: a walk run with sites -------------
    out_a = os.path.join(TMP, "drive")
    r = run("report", "coverage", db, "--facility", "polyclinic", "--mode", "drive",
            "--minutes", "10", "-o", out_a)
    check("report of a new drive run", r.returncode == 0 and "report of coverage run 1" in r.stdout,
          r.stderr)
    out = os.path.join(TMP, "deep", "er", "walk")     # parents are created
    r = run("report", "coverage", db, "--sites", "3", "-o", out)
    check("report of a new walk run with 3 sites", r.returncode == 0 and
          "report of coverage run 2" in r.stdout, r.stderr)
    walk_map, rid = check_report(out, db, "walk")
    check("the walk report is of run 2", rid == 2)
    check_no_pinfl(out, pinfls, "walk")

    # The coverage layer reached the renderer: in walk mode at this scale
    # most parcels are 30+ minutes away, painted red; the drive run's map,
    # pinned to run 1 although run 2 is the latest, is mostly not.
    r = run("report", "coverage", db, "--run", "1", "-o", out_a)
    check("--run 1 reads the stored run (the database untouched)", r.returncode == 0 and
          runs() == 2 and "report of coverage run 1" in r.stdout, r.stderr)
    drive_map, rid1 = check_report(out_a, db, "drive --run 1")
    red_walk = colour_stats(walk_map[2])[2]
    red_drive = colour_stats(drive_map[2])[2]
    check("walk map painted by the coverage theme (%.0f%% strong red)" % (100 * red_walk),
          red_walk > 0.15)
    check("--run 1's map shows run 1, not the latest (%.0f%% red vs %.0f%%)" %
          (100 * red_drive, 100 * red_walk), red_drive < red_walk / 3)
    green_drive = colour_stats(drive_map[2], green=True)[2]
    check("... painted green where the drive is short (%.0f%% green)" % (100 * green_drive),
          green_drive > 0.05)
    check_no_pinfl(out_a, pinfls, "drive")

    # ---- quoting -----------------------------------------------------------------
    raw = open(os.path.join(out, "facilities.csv"), encoding="utf-8").read()
    check("CSV: a name with comma, quotes and Cyrillic is quoted, quotes doubled",
          '"Поликлиника №2, ""Центр"" <b>&"' in raw, raw[:400])
    facs = read_csv(os.path.join(out, "facilities.csv"))
    check("CSV: it parses back to the name", fac_name in [f["name"] for f in facs])
    parcels = read_csv(os.path.join(out, "parcels.csv"))
    check("CSV: parcels.csv carries the quoted facility name intact",
          any(p["facility"] == fac_name for p in parcels))
    dists = read_csv(os.path.join(out, "districts.csv"))
    check("CSV: a district name with a comma and quotes round-trips",
          [d["name"] for d in dists if d["soato"] == "1726266"] == [dist_name])
    html = open(os.path.join(out, "report.html"), encoding="utf-8").read()
    check("HTML: names escaped", "Поликлиника №2, &quot;Центр&quot; &lt;b&gt;&amp;" in html and
          "<b>&" not in html and "Yunusobod, &quot;North&quot;" in html)
    summary = json.load(open(os.path.join(out, "summary.json"), encoding="utf-8"))
    check("JSON: the district name survives", dist_name in [d["name"] for d in
                                                            summary["districts"]])
    check("JSON: travel-time bands add up to the parcels",
          sum(b["parcels"] for b in summary["travel_time_bands"]) == summary["run"]["parcels"])

    # ---- replacing files whole ----------------------------------------------------
    before = open(os.path.join(out, "report.html"), "rb").read()
    os.remove(os.path.join(out, "summary.json"))
    os.mkdir(os.path.join(out, "summary.json"))   # rename onto a directory fails
    r = run("report", "coverage", db, "--run", "2", "-o", out)
    check("a file that cannot be replaced: exit 1, named",
          r.returncode == 1 and os.path.join(out, "summary.json") in r.stderr, r.stderr)
    check("... report.html (written after it) is left as it was",
          open(os.path.join(out, "report.html"), "rb").read() == before)
    check("... and no temporary file is left",
          not [n for n in os.listdir(out) if n.startswith(".")], os.listdir(out))
    os.rmdir(os.path.join(out, "summary.json"))
    r = run("report", "coverage", db, "--run", "latest", "-q", "-o", out)
    check("--run latest, -q: exit 0, silent", r.returncode == 0 and r.stdout == "", r.stderr)
    check("the report again is whole", check_report(out, db, "again")[1] == 2)

    # ---- progress on a terminal ---------------------------------------------------------
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(TGIS, [TGIS, "report", "coverage", db, "--run", "2", "-o", out])
    seen = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    status = os.waitpid(pid, 0)[1]
    stages = set(re.findall(rb"\r\x1b\[K(\w+)", seen))
    check("on a terminal: progress of the stages on stderr, the line cleared at the end",
          os.waitstatus_to_exitcode(status) == 0 and
          {b"reading", b"parcels", b"map", b"writing"} <= stages and
          b"\r\x1b[Kreport of coverage run 2" in seen, (stages, seen[-300:]))

    # ---- the page in a browser -------------------------------------------------------
    shot = os.path.join(TMP, "report-shot.png")
    r = screenshot(os.path.join(out, "report.html"), shot)
    if r is None:
        if passed + failed == 0:
            sys.exit(77)
    else:
        ok = r.returncode == 0 and os.path.exists(shot)
        check("chromium renders report.html to a screenshot", ok, r.stderr[-400:])
        if ok:
            w, h, rows = png_decode(open(shot, "rb").read())
            n_colours, commonest, red = colour_stats(rows)
            check("the screenshot is 1200x2000 and not blank (%d colours, commonest %.0f%%, "
                  "map red %.1f%%)" % (n_colours, 100 * commonest, 100 * red),
                  (w, h) == (1200, 2000) and n_colours > 200 and commonest < 0.9 and
                  red > 0.02)
            keep = os.environ.get("TGIS_REPORT_SHOT")
            if keep:
                shutil.copy(shot, keep)


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
