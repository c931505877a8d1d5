#!/usr/bin/python3
"""test_server.py -- tiles over HTTP for real: `tgis serve` on 127.0.0.1
with a generated city, concurrent clients, malformed requests, ETags,
invalidation after an import, the cache bound, `tgis tiles render` and
MBTiles seeding (opened by GDAL, served back with `serve --mbtiles`).

usage: test_server.py PATH/TO/tgis
Ends with "N passed, N failed".
"""
import json
import math
import os
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TGIS = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="tgis-server-")
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + name)
    else:
        failed += 1
        print("FAIL %s: %s" % (name, detail))
    return cond


def run(*args, timeout=300):
    return subprocess.run([TGIS] + list(args), capture_output=True, text=True, timeout=timeout)


def tile_of(lon, lat, z):
    n = 2 ** z
    r = math.radians(lat)
    return (z, int((lon + 180) / 360 * n),
            int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n))


def png_size(b):
    if b[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", b[16:24])


class Server:
    def __init__(self, *args):
        self.p = subprocess.Popen([TGIS, "serve"] + list(args) + ["--port", "0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            raise RuntimeError("server did not start: %r %s" % (line, self.p.stderr.read()))
        self.port = int(m.group(1))

    def get(self, path, headers=None, method="GET"):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path),
                                     headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def raw(self, request_bytes):
        """Send bytes as they are (no client normalisation); status or None."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        try:
            s.sendall(request_bytes)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                if b"\r\n\r\n" in data:
                    head, _, body = data.partition(b"\r\n\r\n")
                    m = re.search(rb"Content-Length: (\d+)", head, re.I)
                    if m and len(body) >= int(m.group(1)):
                        break
        finally:
            s.close()
        m = re.match(rb"HTTP/1\.[01] (\d+)", data)
        return (int(m.group(1)) if m else None), data.partition(b"\r\n\r\n")[2]

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        try:
            return self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return None


def spatialite(path):
    con = sqlite3.connect(path)
    con.enable_load_extension(True)
    con.load_extension("mod_spatialite")
    return con


def main():
    gpkg, db = os.path.join(TMP, "city.gpkg"), os.path.join(TMP, "city.sqlite")
    r = run("generate", "--scale", "0.01", "--seed", "3", "-o", gpkg)
    assert r.returncode == 0, r.stderr
    assert run("init", db).returncode == 0
    r = run("import", "-q", db, gpkg)
    assert r.returncode == 0, r.stderr

    con = spatialite(db)
    # A parcel with an owner (so a PINFL exists for it) and its inner point.
    pid, cad, lon, lat, pinfl = con.execute(
        "SELECT p.id, p.cadastre, X(ST_Transform(ST_PointOnSurface(p.geom), 4326)),"
        " Y(ST_Transform(ST_PointOnSurface(p.geom), 4326)), o.pinfl FROM parcels p"
        " JOIN parcel_owners o ON o.parcel_id = p.id WHERE p.cadastre IS NOT NULL"
        " AND p.land_use = 'residential' ORDER BY p.id LIMIT 1").fetchone()
    fac_name = con.execute("SELECT name FROM facilities ORDER BY id LIMIT 1").fetchone()[0]
    con.close()

    # ---- tgis tiles render ------------------------------------------------
    z, x, y = tile_of(lon, lat, 16)
    out = os.path.join(TMP, "one.png")
    r = run("tiles", "render", db, "%d/%d/%d" % (z, x, y), "-o", out)
    cli_tile = open(out, "rb").read() if r.returncode == 0 else b""
    check("tiles render writes a 256 px PNG", png_size(cli_tile) == (256, 256), r.stderr)
    r = run("tiles", "render", db, "%d/%d/%d" % (z, x, y), "--scale", "2", "-o", out)
    check("tiles render --scale 2 writes 512 px", r.returncode == 0 and
          png_size(open(out, "rb").read()) == (512, 512), r.stderr)
    for bad in ("23/0/0", "3/8/0", "a/b/c", "1/0", "-1/0/0", "1/0/0/0", ""):
        r = run("tiles", "render", db, bad, "-o", out)
        check("tiles render refuses '%s' (exit 2)" % bad, r.returncode == 2, r.stderr)
    r = run("tiles", "render", db, "10/0/0", "--theme", "nope", "-o", out)
    check("tiles render: unknown theme fails naming it", r.returncode == 1 and "nope" in r.stderr,
          r.stderr)

    # ---- the server -----------------------------------------------------------
    srv = Server(db, "--poll", "0.2", "--threads", "4")
    try:
        st, h, b = srv.get("/healthz")
        check("healthz", st == 200 and json.loads(b)["status"] == "ok", b)
        st, h, b = srv.get("/themes.json")
        themes = json.loads(b)["themes"] if st == 200 else []
        names = [t["name"] for t in themes]
        check("themes.json lists the four themes", set(names) >= {"base", "utilities",
                                                                  "facilities", "coverage"}, names)
        check("base is the only non-overlay theme",
              [t["name"] for t in themes if not t["overlay"]] == ["base"], names)
        check("every theme has a legend", all(t["legend"] for t in themes))
        st, h, b = srv.get("/tiles/base.json")
        tj = json.loads(b) if st == 200 else {}
        check("TileJSON 3.0.0 with an XYZ URL", tj.get("tilejson") == "3.0.0" and
              tj["tiles"][0].endswith("/tiles/base/{z}/{x}/{y}.png"), b)

        path = "/tiles/base/%d/%d/%d.png" % (z, x, y)
        st, h, tile = srv.get(path)
        check("a tile is a 256 px PNG", st == 200 and h.get("Content-Type") == "image/png" and
              png_size(tile) == (256, 256), (st, h))
        check("tiles carry an ETag and Cache-Control", "ETag" in h and "Cache-Control" in h, h)
        check("the served tile is the CLI's tile, byte for byte", tile == cli_tile)
        st2, h2, b2 = srv.get(path, {"If-None-Match": h.get("ETag", "")})
        check("If-None-Match gives 304 without a body", st2 == 304 and b2 == b"", st2)
        st, h, b = srv.get(path.replace(".png", "@2x.png"))
        check("@2x tile is 512 px", st == 200 and png_size(b) == (512, 512), st)
        for theme in ("utilities", "facilities", "coverage"):
            st, h, b = srv.get("/tiles/%s/%d/%d/%d.png" % (theme, z, x, y))
            check("overlay %s tile" % theme, st == 200 and png_size(b) == (256, 256), st)

        # Concurrent clients: 8 threads, 120 requests over 20 tiles.
        tiles = [(16, x + dx, y + dy) for dx in range(-2, 2) for dy in range(-2, 3)]
        results, errors = {}, []

        def client(k):
            for i in range(15):
                t = tiles[(k * 7 + i) % len(tiles)]
                st, h, b = srv.get("/tiles/base/%d/%d/%d.png" % t)
                if st != 200 or png_size(b) != (256, 256):
                    errors.append((t, st))
                results.setdefault(t, set()).add(b)

        th = [threading.Thread(target=client, args=(k,)) for k in range(8)]
        for t in th:
            t.start()
        for t in th:
            t.join()
        check("120 concurrent tile requests all succeed", not errors, errors[:3])
        check("every client got the same bytes for a tile",
              all(len(v) == 1 for v in results.values()))

        # Feature info at the parcel's inner point.
        st, h, b = srv.get("/info?lon=%.7f&lat=%.7f&z=18" % (lon, lat))
        info = json.loads(b) if st == 200 else {}
        parcels = [f for f in info.get("features", []) if f["layer"] == "parcels"]
        check("info finds the parcel with its cadastre number",
              len(parcels) == 1 and parcels[0]["properties"]["cadastre"] == cad, b[:300])
        check("info never carries a PINFL", pinfl.encode() not in b and b"pinfl" not in b, b[:300])
        st, h, b = srv.get("/search?q=" + cad)
        res = json.loads(b)["results"] if st == 200 else []
        check("search by cadastre number", res and res[0]["label"] == cad and
              abs(res[0]["lon"] - lon) < 0.01, b[:300])
        st, h, b = srv.get("/search?q=" + urllib.parse.quote(fac_name[3:12]))
        res = json.loads(b)["results"] if st == 200 else []
        check("search by part of a facility name", any(r["label"] == fac_name for r in res), b[:300])

        # Malformed requests: a 4xx with a JSON error, and the server lives.
        bad = [
            "/tiles/base/23/0/0.png", "/tiles/base/3/8/0.png", "/tiles/base/3/0/8.png",
            "/tiles/base/a/b/c.png", "/tiles/base/1/0/0.jpg", "/tiles/base/01/0/0.png",
            "/tiles/base/1/0/-0.png", "/tiles/base/99999999999/0/0.png", "/tiles/base/1/0.png",
            "/tiles/nope/1/0/0.png", "/tiles/../../../etc/passwd", "/tiles/base/../../x.png",
            "/static/../../../../etc/passwd", "/static/.hidden", "/static/a/b/c/d.js",
            "/vendor/leaflet/../../../etc/passwd", "/tiles/%2e%2e/1/0/0.png",
            "/info?lon=abc&lat=1", "/info?lon=200&lat=41", "/info", "/search", "/search?q=",
            "/search?q=" + "x" * 200, "/search?q=a&limit=0", "/search?q=a&limit=9999",
            "/nope", "/tiles/base.json.json", "/tiles/.json",
        ]
        for p in bad:
            st, body = srv.raw(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                                % p).encode())
            ok = st is not None and 400 <= st < 500
            try:
                ok = ok and "error" in json.loads(body)
            except ValueError:
                ok = False
            check("bad request %s -> 4xx JSON" % p[:50], ok, (st, body[:100]))
        st, body = srv.raw(b"GET /tiles/base/1/0/0.png?" + b"a=" + b"b" * 100000 +
                           b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        check("a 100 KB query string -> 414 JSON", st == 414 and b"error" in body, st)
        st, body = srv.raw(b"POST /tiles/base/1/0/0.png HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Length: 5\r\nConnection: close\r\n\r\nhello")
        check("POST -> 405", st == 405, st)
        st, body = srv.raw(b"garbage\r\n\r\n")
        check("a garbage request line is closed at once", st is None, st)
        stuck = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        stuck.sendall(b"\x00\x01garbage")   # never completes: it must not block others
        st, h, b = srv.get("/healthz")
        check("a stalled client does not hold up others", st == 200, st)
        stuck.close()
        st, h, b = srv.get("/healthz")
        check("server alive after the bad requests", st == 200, st)

        # An import changes the parcel: its tile is drawn anew, far tiles stay cached.
        far = "/tiles/base/%d/%d/%d.png" % (z, x + 40, y + 40)
        srv.get(far)
        st, h, before = srv.get(path)
        con = spatialite(db)
        gj = con.execute("SELECT AsGeoJSON(ST_Transform(geom, 4326), 9) FROM parcels"
                         " WHERE id = ?", (pid,)).fetchone()[0]
        res_n = con.execute("SELECT residents FROM parcels WHERE id = ?", (pid,)).fetchone()[0]
        con.close()
        src = os.path.join(TMP, "parcels.geojson")
        with open(src, "w") as f:
            json.dump({"type": "FeatureCollection", "features": [{
                "type": "Feature", "geometry": json.loads(gj),
                "properties": {"cadastre": cad, "land_use": "industrial",
                               "residents": res_n}}]}, f)
        _, _, s0 = srv.get("/stats")
        s0 = json.loads(s0)
        r = run("import", "-q", "--layer", "parcels", "--mode", "upsert", db, src)
        check("upsert import of one parcel", r.returncode == 0, r.stderr)
        deadline = time.time() + 10
        after = before
        while time.time() < deadline:
            st, h, after = srv.get(path)
            if after != before:
                break
            time.sleep(0.2)
        check("the changed parcel's tile is re-rendered after the import", after != before)
        _, _, s1 = srv.get("/stats")
        s1 = json.loads(s1)
        srv.get(far)
        _, _, s2 = srv.get("/stats")
        s2 = json.loads(s2)
        check("a tile far from the change stays cached", s2["cache_hits"] == s1["cache_hits"] + 1,
              (s1, s2))
        dropped = s1["cache_invalidated"] - s0["cache_invalidated"]
        check("only some tiles were dropped", 0 < dropped < s0["cache_entries"], (s0, s1))

        # A coverage run redraws the coverage theme (its tiles were empty).
        cov = "/tiles/coverage/%d/%d/%d.png" % (z - 2, x // 4, y // 4)
        st, h, empty = srv.get(cov)
        r = run("coverage", db, "--facility", "polyclinic", "--minutes", "15")
        check("coverage run for the coverage theme", r.returncode == 0, r.stderr)
        deadline = time.time() + 10
        drawn = empty
        while time.time() < deadline and drawn == empty:
            time.sleep(0.2)
            st, h, drawn = srv.get(cov)
        check("a new coverage run redraws the coverage tiles", st == 200 and drawn != empty and
              len(drawn) > len(empty), (len(empty), len(drawn)))
    finally:
        rc = srv.stop()
    check("server stops cleanly on SIGINT", rc == 0, rc)

    # ---- the cache bound ---------------------------------------------------------
    srv = Server(db, "--cache-mb", "1", "--threads", "2")
    try:
        # Distinct tiles until twice the bound has been served, whatever
        # the size of a tile.
        served = 0
        for k in range(32 * 32):
            if served > 2 << 20:
                break
            st, h, b = srv.get("/tiles/base/16/%d/%d@2x.png" % (x + k % 32 - 16, y + k // 32 - 16))
            served += len(b) if st == 200 else 0
        check("tiles of twice the bound were served", served > 2 << 20, served)
        st, h, b = srv.get("/stats")
        s = json.loads(b)
        check("cache stays within its bound", s["cache_bytes"] <= s["cache_max_bytes"] == 1 << 20, s)
        check("the bound evicts", s["cache_evictions"] > 0, s)
    finally:
        srv.stop()

    # ---- MBTiles ---------------------------------------------------------------
    mb = os.path.join(TMP, "city.mbtiles")
    r = run("tiles", "seed", db, "--zoom", "12-14", "--jobs", "2", "-o", mb)
    m = re.search(r"(\d+) tiles .*: (\d+) rendered now, (\d+) already", r.stdout)
    check("seed renders every tile", r.returncode == 0 and m and m.group(1) == m.group(2),
          r.stdout + r.stderr)
    total = int(m.group(1)) if m else 0
    con = sqlite3.connect(mb)
    meta = dict(con.execute("SELECT name, value FROM metadata"))
    check("MBTiles metadata", meta.get("format") == "png" and meta.get("minzoom") == "12" and
          meta.get("maxzoom") == "14" and len(meta.get("bounds", "").split(",")) == 4, meta)
    n = con.execute("SELECT count(*) FROM tiles").fetchone()[0]
    check("MBTiles holds the tiles", n == total, (n, total))
    # TMS rows: XYZ y of a z14 tile is stored at row 2^14 - 1 - y.
    z14 = tile_of(lon, lat, 14)
    row = con.execute("SELECT tile_data FROM tiles WHERE zoom_level = 14 AND tile_column = ?"
                      " AND tile_row = ?", (z14[1], (1 << 14) - 1 - z14[2])).fetchone()
    con.execute("DELETE FROM tiles WHERE zoom_level = 14 AND rowid % 2 = 0")
    removed = con.total_changes
    con.commit()
    con.close()
    r2 = run("tiles", "render", db, "14/%d/%d" % z14[1:], "-o", out)
    check("MBTiles rows are TMS (flipped y)", row is not None and row[0] ==
          open(out, "rb").read(), "no tile at the flipped row")
    r = subprocess.run(["gdalinfo", mb], capture_output=True, text=True)
    check("GDAL opens the MBTiles file", r.returncode == 0 and "MBTiles" in r.stdout, r.stderr)
    r = run("tiles", "seed", db, "--zoom", "12-14", "-o", mb)
    m = re.search(r": (\d+) rendered now, (\d+) already", r.stdout)
    check("a second seed renders only what is missing",
          r.returncode == 0 and m and int(m.group(1)) == removed, (r.stdout, removed))
    r = run("tiles", "seed", db, "--zoom", "12-14", "--theme", "utilities", "-o", mb)
    check("seeding another theme into the file is refused", r.returncode == 1 and
          "theme=base" in r.stderr, r.stderr)
    # Interrupted seed: Ctrl-C keeps what was committed, the next run goes on.
    mb2 = os.path.join(TMP, "big.mbtiles")
    p = subprocess.Popen([TGIS, "tiles", "seed", db, "--zoom", "12-16", "--jobs", "1", "-o", mb2],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.5)
    p.send_signal(signal.SIGINT)
    o, e = p.communicate(timeout=60)
    m = re.search(r"(\d+) tiles .*: (\d+) rendered now", o)
    check("Ctrl-C stops a seed with exit 1 and keeps its tiles", p.returncode == 1 and m and
          0 < int(m.group(2)) < int(m.group(1)), (p.returncode, o, e))
    r = run("tiles", "seed", db, "--zoom", "12-16", "-o", mb2)
    m2 = re.search(r"(\d+) tiles .*: (\d+) rendered now, (\d+) already", r.stdout)
    check("the interrupted seed resumes", r.returncode == 0 and m2 and int(m2.group(3)) > 0 and
          int(m2.group(2)) + int(m2.group(3)) == int(m2.group(1)), r.stdout)
    for bad in (["--zoom", "5-3"], ["--zoom", "23"], ["--bbox", "1,2,3"], ["--jobs", "0"], []):
        r = run("tiles", "seed", db, *bad, "-o", os.path.join(TMP, "x.mbtiles"))
        check("seed refuses %s (exit 2)" % " ".join(bad), r.returncode == 2, r.stderr)

    srv = Server("--mbtiles", mb)
    try:
        st, h, b = srv.get("/tiles/base/14/%d/%d.png" % z14[1:])
        check("serve --mbtiles serves the file's tile", st == 200 and b == row[0], st)
        st, h, b = srv.get("/tiles/base/5/0/0.png")
        check("serve --mbtiles: a tile not in the set is a 404 JSON",
              st == 404 and b"error" in b, st)
        st, h, b = srv.get("/tiles/utilities/14/%d/%d.png" % z14[1:])
        check("serve --mbtiles: other themes are 404", st == 404, st)
        st, h, b = srv.get("/info?lon=69.2&lat=41.3")
        check("serve --mbtiles: no feature info without a database", st == 501, st)
    finally:
        srv.stop()
    r = run("serve", "--mbtiles", os.path.join(TMP, "missing.mbtiles"))
    check("serve --mbtiles of a missing file fails", r.returncode == 1, r.stderr)
    r = run("serve", db, "--port", "70000")
    check("serve --port 70000 is a usage error", r.returncode == 2, r.stderr)


try:
    main()
except Exception as e:  # a broken step is a failure, not a crash of the tally
    import traceback
    traceback.print_exc()
    failed += 1
finally:
    shutil.rmtree(TMP, ignore_errors=True)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
