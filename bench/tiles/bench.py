#!/usr/bin/python3
"""bench/tiles/bench.py -- the peers' side of bench/tiles.sh.

Run with Debian's /usr/bin/python3 (python3-mapscript and python3-mapnik are
installed for it, not for another python on the PATH).

  bench.py tiles   CENTROIDS.csv N SEED OUT      fixed list of z15/z16 tiles
  bench.py styles  BASE.yaml TEMPLATE DATA_DIR KIND OUT_DIR COMPRESSION
                   writes base-z15/16.map (MapServer) and .xml (Mapnik)
  bench.py mapscript MAP15 MAP16 TILES ROUNDS [OUT_DIR]
  bench.py mapnik    XML15 XML16 TILES ROUNDS FORMAT [OUT_DIR]
  bench.py map2img   MAP15 MAP16 TILES [OUT_DIR]
  bench.py report  RESULTS                       the final table

Each renderer prints one line of key=value figures: tiles, cpu_ms (CPU time
of the process, or of the map2img children), wall_ms, per_core (tiles per
CPU second), avg_bytes. The styles are translated from data/styles/base.yaml
(the tgis theme the benchmark renders), zoom by zoom, so that widths,
colours, casings and labels are the same numbers.
"""
import csv
import json
import math
import os
import random
import subprocess
import sys
import time

HALF = 20037508.342789244


def tile_bounds(z, x, y):
    span = 2 * HALF / (1 << z)
    return (-HALF + x * span, HALF - (y + 1) * span, -HALF + (x + 1) * span, HALF - y * span)


def read_tiles(path):
    with open(path) as f:
        return [tuple(int(v) for v in line.split()) for line in f if line.strip()]


# ---- tile list ---------------------------------------------------------------

def make_tiles(centroids, n, seed, out):
    """n distinct tiles, half z15 and half z16, each the tile of a parcel
    centroid drawn at random with a fixed seed: the list follows the city's
    density, and every tile has parcels in it."""
    pts = []
    with open(centroids) as f:
        for row in csv.DictReader(f):
            pts.append((float(row["x"]), float(row["y"])))
    pts.sort()
    rng = random.Random(int(seed))
    tiles, seen = [], set()
    for z in (15, 16):
        want = int(n) // 2 if z == 15 else int(n) - int(n) // 2
        span = 2 * HALF / (1 << z)
        got = 0
        while got < want:
            x, y = pts[rng.randrange(len(pts))]
            t = (z, int((x + HALF) // span), int((HALF - y) // span))
            if t in seen:
                continue
            seen.add(t)
            tiles.append(t)
            got += 1
    rng.shuffle(tiles)
    with open(out, "w") as f:
        for t in tiles:
            f.write("%d %d %d\n" % t)


# ---- styles ------------------------------------------------------------------

def num_at(v, z):
    """tgis_style_num_at(): a number, or [[zoom, value], ...] interpolated
    linearly and held beyond the ends."""
    if not isinstance(v, list):
        return float(v)
    if z <= v[0][0]:
        return float(v[0][1])
    for (z0, a), (z1, b) in zip(v, v[1:]):
        if z <= z1:
            return a + (z - z0) / (z1 - z0) * (b - a)
    return float(v[-1][1])


def rgba(c):
    c = c.lstrip("#")
    r, g, b = int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)
    a = int(c[6:8], 16) if len(c) == 8 else 255
    return r, g, b, a


def hex6(c):
    r, g, b, _ = rgba(c)
    return "#%02x%02x%02x" % (r, g, b)


def alpha(c):
    return rgba(c)[3] / 255.0


def as_list(v):
    return v if isinstance(v, list) else [v]


def style_layers(base, z):
    """The base theme's layers that draw something at zoom z, with their
    numbers evaluated at z."""
    out = []
    for l in base["layers"]:
        if z < l.get("min_zoom", 0) or z > l.get("max_zoom", 22):
            continue
        d = {"id": l["id"], "source": l["source"], "filter": l.get("filter")}
        if "fill" in l:
            d["fill"] = l["fill"]
        if "stroke" in l:
            d["stroke"] = l["stroke"]
            d["width"] = num_at(l.get("stroke_width", 1), z)
        if "casing" in l:
            d["casing_w"] = num_at(l["casing"]["width"], z)
            d["casing"] = l["casing"]["colour"]
        d["dash"] = l.get("dash")
        d["cap"] = l.get("line_cap", "round")
        d["join"] = l.get("line_join", "round")
        lb = l.get("label")
        if lb and lb.get("min_zoom", 0) <= z <= lb.get("max_zoom", 22):
            d["label"] = lb
        out.append(d)
    return out


def filter_values(d):
    f = d["filter"] or {}
    return {k: as_list(v) for k, v in f.items()}


def ms_expr(d):
    fv = filter_values(d)
    if not fv:
        return ""
    parts = []
    for k, vals in fv.items():
        parts.append("(" + " OR ".join('("[%s]" = "%s")' % (k, v) for v in vals) + ")")
    return "EXPRESSION (%s)" % " AND ".join(parts)


def ms_colour(c):
    r, g, b, a = rgba(c)
    return '"#%02x%02x%02x%02x"' % (r, g, b, a)


def mapfile(base, z, data, kind):
    """MapServer layers for zoom z. Parcels: fill and outline per feature
    (one pass over the layer). Roads: one layer of casings, one of fills
    with the labels, the roads stored in drawing order (minor first), so a
    layer drawing in feature order draws them as tgis does by class. The
    districts' band and line are drawn under the roads (one pass less)."""
    layers = style_layers(base, z)

    def source(name):
        if kind == "shp":
            return '    DATA "%s/%s"\n' % (data, name)
        return ('    CONNECTIONTYPE OGR\n    CONNECTION "%s/peers.gpkg"\n    DATA "%s"\n'
                % (data, name))

    def line_style(colour, width, d, dashed):
        s = "      STYLE\n        COLOR %s\n        WIDTH %.3f\n" % (ms_colour(colour), width)
        s += "        LINECAP %s\n        LINEJOIN %s\n" % (d["cap"], d["join"])
        if dashed and d["dash"]:
            s += "        PATTERN %s END\n" % " ".join("%g" % v for v in d["dash"])
        return s + "      END\n"

    out = []
    parcels = [d for d in layers if d["source"] == "parcels"]
    for d in parcels:
        f = d["fill"]
        s = ('  LAYER\n    NAME "parcels"\n    TYPE POLYGON\n    STATUS ON\n' + source("parcels")
             + '    CLASSITEM "%s"\n' % f["attribute"])
        outline = ""
        if d.get("stroke") and d["width"] > 0:
            outline = ("        OUTLINECOLOR %s\n        WIDTH %.3f\n"
                       % (ms_colour(d["stroke"]), d["width"]))
        for v, c in f["values"].items():
            s += ('    CLASS\n      EXPRESSION "%s"\n      STYLE\n        COLOR %s\n%s      END\n'
                  '    END\n' % (v, ms_colour(c), outline))
        if "default" in f:
            s += ('    CLASS\n      STYLE\n        COLOR %s\n%s      END\n    END\n'
                  % (ms_colour(f["default"]), outline))
        out.append(s + "  END\n")
    districts = [d for d in layers if d["source"] == "districts"]
    if districts:
        s = ('  LAYER\n    NAME "districts"\n    TYPE LINE\n    STATUS ON\n' + source("districts")
             + "    CLASS\n")
        for d in districts:
            s += line_style(d["stroke"], d["width"], d, True)
        out.append(s + "    END\n  END\n")
    roads = [d for d in layers if d["source"] == "roads"]
    s = ('  LAYER\n    NAME "roads-casing"\n    TYPE LINE\n    STATUS ON\n' + source("roads"))
    for d in roads:
        if "casing" in d:
            s += "    CLASS\n      %s\n" % ms_expr(d)
            s += line_style(d["casing"], d["width"] + 2 * d["casing_w"], d, False)
            s += "    END\n"
    out.append(s + "  END\n")
    s = ('  LAYER\n    NAME "roads"\n    TYPE LINE\n    STATUS ON\n' + source("roads")
         + '    LABELITEM "name"\n')
    for d in roads:
        s += "    CLASS\n      %s\n" % ms_expr(d)
        s += line_style(d["stroke"], d["width"], d, True)
        lb = d.get("label")
        if lb:
            halo = lb.get("halo", "#ffffff")
            s += ("      LABEL\n        TYPE TRUETYPE\n        FONT \"%s\"\n        SIZE %g\n"
                  "        COLOR %s\n        ANGLE AUTO\n        PRIORITY %d\n"
                  "        MINDISTANCE %d\n        PARTIALS FALSE\n"
                  % ("dejavu-bold" if lb.get("bold") else "dejavu", lb.get("size", 10),
                     ms_colour(lb.get("colour", "#000000")),
                     max(1, min(10, lb.get("priority", 0) // 5)),
                     lb.get("repeat_distance", 0)))
            if halo:
                s += ("        OUTLINECOLOR %s\n        OUTLINEWIDTH %d\n"
                      % (ms_colour(halo), round(lb.get("halo_width", 1.5))))
            s += "      END\n"
        s += "    END\n"
    out.append(s + "  END\n")
    return "".join(out)


MERC = ("+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 "
        "+units=m +nadgrids=@null +wktext +no_defs")


def xml_esc(s):
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def mk_filter(d):
    fv = filter_values(d)
    if not fv:
        return ""
    parts = []
    for k, vals in fv.items():
        parts.append("(" + " or ".join("[%s]='%s'" % (k, v) for v in vals) + ")")
    return "<Filter>%s</Filter>" % xml_esc(" and ".join(parts))


def mk_line(colour, width, d, dashed):
    s = '<LineSymbolizer stroke="%s" stroke-width="%.3f" stroke-linecap="%s" stroke-linejoin="%s"' % (
        hex6(colour), width, d["cap"], d["join"])
    if alpha(colour) < 1:
        s += ' stroke-opacity="%.3f"' % alpha(colour)
    if dashed and d["dash"]:
        s += ' stroke-dasharray="%s"' % ",".join("%g" % v for v in d["dash"])
    return s + "/>"


def mapnik_xml(base, z, data, kind, buffer_px):
    """The same for Mapnik: parcels one style (fill and outline per
    feature); roads one layer with three styles (casings, fills, labels)
    over features cached once; districts under the roads."""
    layers = style_layers(base, z)

    def ds(name):
        if kind == "shp":
            return ('<Parameter name="type">shape</Parameter><Parameter name="file">%s/%s.shp'
                    '</Parameter>' % (data, name))
        return ('<Parameter name="type">sqlite</Parameter><Parameter name="file">%s/peers.gpkg'
                '</Parameter><Parameter name="table">%s</Parameter>'
                '<Parameter name="geometry_field">geom</Parameter>'
                '<Parameter name="use_spatial_index">true</Parameter>' % (data, name)
                if kind == "sqlite" else
                '<Parameter name="type">ogr</Parameter><Parameter name="file">%s/peers.gpkg'
                '</Parameter><Parameter name="layer">%s</Parameter>' % (data, name))

    styles, lays = [], []
    for d in (d for d in layers if d["source"] == "parcels"):
        f = d["fill"]
        outline = mk_line(d["stroke"], d["width"], d, False) if d.get("stroke") and d["width"] > 0 else ""
        rules = []
        for v, c in f["values"].items():
            rules.append("<Rule><Filter>[%s]='%s'</Filter><PolygonSymbolizer fill=\"%s\"/>%s</Rule>"
                         % (f["attribute"], v, hex6(c), outline))
        if "default" in f:
            rules.append('<Rule><ElseFilter/><PolygonSymbolizer fill="%s"/>%s</Rule>'
                         % (hex6(f["default"]), outline))
        styles.append('<Style name="parcels">%s</Style>' % "".join(rules))
        lays.append('<Layer name="parcels" srs="%s"><StyleName>parcels</StyleName>'
                    '<Datasource>%s</Datasource></Layer>' % (MERC, ds("parcels")))
    districts = [d for d in layers if d["source"] == "districts"]
    if districts:
        styles.append('<Style name="districts"><Rule>%s</Rule></Style>'
                      % "".join(mk_line(d["stroke"], d["width"], d, True) for d in districts))
        lays.append('<Layer name="districts" srs="%s"><StyleName>districts</StyleName>'
                    '<Datasource>%s</Datasource></Layer>' % (MERC, ds("districts")))
    roads = [d for d in layers if d["source"] == "roads"]
    cas, fil, lab = [], [], []
    for d in roads:
        if "casing" in d:
            cas.append("<Rule>%s%s</Rule>" % (mk_filter(d), mk_line(d["casing"], d["width"] + 2 * d["casing_w"], d, False)))
        fil.append("<Rule>%s%s</Rule>" % (mk_filter(d), mk_line(d["stroke"], d["width"], d, True)))
        lb = d.get("label")
        if lb:
            halo = lb.get("halo", "#ffffff")
            t = ('<TextSymbolizer face-name="%s" size="%g" fill="%s" placement="line" '
                 'repeat-distance="%d" max-char-angle-delta="15"'
                 % ("DejaVu Sans Bold" if lb.get("bold") else "DejaVu Sans Book",
                    lb.get("size", 10), hex6(lb.get("colour", "#000000")),
                    lb.get("repeat_distance", 0)))
            if halo:
                t += ' halo-fill="%s" halo-radius="%g"' % (hex6(halo), lb.get("halo_width", 1.5))
            lab.append("<Rule>%s%s>[%s]</TextSymbolizer></Rule>" % (mk_filter(d), t, lb["attribute"]))
    names = []
    for name, rules in (("roads-casing", cas), ("roads", fil), ("roads-labels", lab)):
        if rules:
            styles.append('<Style name="%s">%s</Style>' % (name, "".join(rules)))
            names.append(name)
    lays.append('<Layer name="roads" srs="%s" cache-features="true">%s<Datasource>%s</Datasource>'
                '</Layer>' % (MERC, "".join("<StyleName>%s</StyleName>" % n for n in names),
                              ds("roads")))
    return ('<?xml version="1.0" encoding="utf-8"?>\n<Map srs="%s" background-color="%s" '
            'buffer-size="%d">\n%s\n%s\n</Map>\n'
            % (MERC, hex6(base["background"]), buffer_px, "\n".join(styles), "\n".join(lays)))


def write_styles(base_yaml, template, data, kind, out_dir, compression, imagetype="png8"):
    import yaml
    with open(base_yaml) as f:
        base = yaml.safe_load(f)
    with open(template) as f:
        tmpl = f.read()
    fontset = os.path.join(os.path.dirname(os.path.abspath(template)), "fonts.list")
    for z in (15, 16):
        m = (tmpl.replace("@ZOOM@", str(z))
             .replace("@EXTENT@", "%.3f %.3f %.3f %.3f" % tile_bounds(z, 0, 0))
             .replace("@BACKGROUND@", hex6(base["background"]))
             .replace("@FONTSET@", fontset)
             .replace("@COMPRESSION@", str(compression))
             .replace("@IMAGETYPE@", imagetype)
             .replace("@LAYERS@", mapfile(base, z, data, kind)))
        with open(os.path.join(out_dir, "base-%s-z%d.map" % (kind, z)), "w") as f:
            f.write(m)
        with open(os.path.join(out_dir, "base-%s-z%d.xml" % (kind, z)), "w") as f:
            f.write(mapnik_xml(base, z, data, kind, 64))


# ---- renderers ---------------------------------------------------------------

def figures(n, cpu_s, wall_s, nbytes):
    print("tiles=%d cpu_ms=%.1f wall_ms=%.1f per_core=%.1f wall_rate=%.1f avg_bytes=%.0f"
          % (n, cpu_s * 1e3, wall_s * 1e3, n / cpu_s, n / wall_s, nbytes / n))


def time_tiles(tiles, one, rounds, out_dir):
    """Render every tile once untimed (files, fonts, caches), then `rounds`
    times timed with one(t) -> PNG bytes; the first round's tiles go to
    out_dir. Prints the figures."""
    for t in tiles:
        one(t)
    n, nbytes = 0, 0
    c0, w0 = time.process_time(), time.perf_counter()
    for r in range(int(rounds)):
        for t in tiles:
            b = one(t)
            n += 1
            nbytes += len(b)
            if out_dir and r == 0:
                with open(os.path.join(out_dir, "%d-%d-%d.png" % t), "wb") as f:
                    f.write(b)
    figures(n, time.process_time() - c0, time.perf_counter() - w0, nbytes)


def run_mapscript(map15, map16, tiles_path, rounds, out_dir=None):
    import mapscript
    maps = {15: mapscript.mapObj(map15), 16: mapscript.mapObj(map16)}
    tiles = read_tiles(tiles_path)

    def one(t):
        m = maps[t[0]]
        m.setExtent(*tile_bounds(*t))
        img = m.draw()
        return img.getBytes()

    time_tiles(tiles, one, rounds, out_dir)


def run_mapnik(xml15, xml16, tiles_path, rounds, fmt, out_dir=None):
    import mapnik
    mapnik.register_fonts("/usr/share/fonts/truetype/dejavu/")
    maps = {}
    for z, x in ((15, xml15), (16, xml16)):
        m = mapnik.Map(256, 256)
        mapnik.load_map(m, x)
        maps[z] = m
    tiles = read_tiles(tiles_path)
    im = mapnik.Image(256, 256)

    def one(t):
        m = maps[t[0]]
        m.zoom_to_box(mapnik.Box2d(*tile_bounds(*t)))
        mapnik.render(m, im)
        return im.tostring(fmt)

    time_tiles(tiles, one, rounds, out_dir)


def run_map2img(map15, map16, tiles_path, out_dir):
    """One map2img process per tile, as a CGI-style setup pays it: CPU time
    is that of the children."""
    tiles = read_tiles(tiles_path)
    maps = {15: map15, 16: map16}
    n, nbytes = 0, 0
    c0, w0 = os.times(), time.perf_counter()
    for t in tiles:
        # absolute: map2img takes a relative path from the mapfile's folder
        out = os.path.abspath(os.path.join(out_dir, "%d-%d-%d.png" % t))
        b = tile_bounds(*t)
        subprocess.run(["map2img", "-m", maps[t[0]], "-o", out, "-s", "256", "256", "-e"]
                       + ["%.6f" % v for v in b], check=True, stdout=subprocess.DEVNULL)
        n += 1
        nbytes += os.path.getsize(out)
    c1 = os.times()
    cpu = (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
    figures(n, cpu, time.perf_counter() - w0, nbytes)


# ---- report ------------------------------------------------------------------

def med(v):
    v = sorted(v)
    return v[len(v) // 2] if len(v) % 2 else 0.5 * (v[len(v) // 2 - 1] + v[len(v) // 2])


def kv(text):
    return dict(p.split("=", 1) for p in text.split())


def report(path):
    """The results file of bench/tiles.sh as readable tables."""
    import re
    renders, order, seeds, serves, mem, city = {}, [], {}, [], None, {}
    for line in open(path):
        kind, _, rest = line.strip().partition(" ")
        if kind == "city":
            city = kv(rest)
        elif kind == "render":
            m = re.match(r"name=(.*?) (tiles=.*)", rest)
            if not m:
                continue                 # a renderer that failed: no figures
            name, d = m.group(1), kv(m.group(2))
            if name not in renders:
                renders[name] = []
                order.append(name)
            renders[name].append(d)
        elif kind == "seed":
            d = kv(rest)
            seeds[int(d["jobs"])] = d
        elif kind == "serve":
            m = re.match(r"name=(.*?) (rps=.*)", rest)
            serves.append((m.group(1), kv(m.group(2))))
        elif kind == "memory":
            mem = kv(rest)
    n_tiles = int(renders[order[0]][0]["tiles"]) if order else 0
    print()
    print("Rendering: the same %s z15/z16 tiles, base theme with labels, 256x256 PNG; city of %s "
          "parcels, %s roads" % (len(read_tiles(os.path.join(os.path.dirname(path), "tiles.txt")))
                                 if os.path.exists(os.path.join(os.path.dirname(path), "tiles.txt")) else "?",
                                 city.get("parcels", "?"), city.get("roads", "?")))
    print("per core = tiles / CPU seconds of the renderer (medians of the runs); wall = tiles / "
          "elapsed seconds (the machine is shared)")
    hdr = "%-22s %-28s %-16s %3s %12s %-22s %10s %8s"
    print(hdr % ("renderer", "data", "PNG", "thr", "per core/s", "runs", "wall/s", "avg KB"))
    print("-" * 128)
    best = {}
    for name in order:
        rs = renders[name]
        r, data, png, thr = name.split("|")
        pc = med([float(d["per_core"]) for d in rs])
        wall = med([float(d["wall_rate"]) for d in rs])
        kb = med([float(d["avg_bytes"]) for d in rs]) / 1024
        runs = " ".join("%.0f" % float(d["per_core"]) for d in rs)
        print(hdr % (r, data, png, thr, "%.1f" % pc, runs[:22], "%.1f" % wall, "%.1f" % kb))
        key = (r, thr)
        palette = not ("RGB" in png or "png32" in png)
        best.setdefault((r, palette, thr), []).append((pc, data, png, kb))
    print()

    def top(r, palette):
        v = best.get((r, palette, "1"))
        return max(v) if v else None

    t = top("tgis", True)
    if t:
        print("Ratios, tgis per core (%.1f tiles/s, %.1f KB) over each peer's best data source:"
              % (t[0], t[3]))
        for r, palette, what in (("MapServer mapscript", True, "palette PNG, as tgis"),
                                 ("MapServer mapscript", False, "truecolour PNG, its fastest"),
                                 ("Mapnik", True, "palette PNG, as tgis"),
                                 ("Mapnik", False, "truecolour PNG, its fastest"),
                                 ("map2img per tile", True, "one process per tile")):
            p = top(r, palette)
            if p:
                print("  tgis / %-20s %-28s %6.2fx   (%.1f tiles/s, %s, %.1f KB)"
                      % (r, what, t[0] / p[0], p[0], p[1], p[3]))
        two = best.get(("tgis", True, "2"))
        if two:
            print("  tgis on 2 threads: %.1f tiles/s per core" % max(two)[0])
        print()
    if seeds:
        print("Seeding z15-16 of the whole city into MBTiles (tgis tiles seed):")
        print("  %-8s %8s %9s %10s %8s %16s" % ("jobs", "tiles", "seconds", "tiles/s", "CPU s",
                                                 "tiles/CPU s"))
        for j in sorted(seeds):
            d = seeds[j]
            print("  %-8d %8s %9s %10.1f %8s %16.1f" % (j, d["tiles"], d["secs"],
                                                        int(d["tiles"]) / float(d["secs"]), d["cpu"],
                                                        int(d["tiles"]) / float(d["cpu"])))
        if 1 in seeds and 2 in seeds:
            s1 = int(seeds[1]["tiles"]) / float(seeds[1]["secs"])
            s2 = int(seeds[2]["tiles"]) / float(seeds[2]["secs"])
            print("  scaling from 1 to 2 jobs: %.2fx (wall-clock, on a shared 2-core machine)"
                  % (s2 / s1))
        print()
    if serves:
        print("Serving (tgis serve on 127.0.0.1, wrk -t2):")
        for name, d in serves:
            extra = ", %s tiles rendered" % d["rendered"] if "rendered" in d else ""
            print("  %-44s %10s requests/s%s" % (name, d["rps"], extra))
        print()
    if mem:
        print("Memory under load with --cache-mb 16 (wrk on distinct tiles, 15 s):")
        mib = lambda k: int(mem.get(k, 0)) / 1024
        print("  RSS at start %.1f MiB; peak %.1f MiB over the first half, %.1f MiB over all "
              "(+%.1f MiB over the start), %.1f MiB at the end"
              % (mib("rss_start_kib"), mib("rss_half_kib"), mib("rss_peak_kib"),
                 mib("rss_peak_kib") - mib("rss_start_kib"), mib("rss_end_kib")))
        print("  cache peak %.1f MiB of its %.1f MiB bound, %s entries at the end"
              % (int(mem["cache_peak_bytes"]) / 2**20, int(mem["cache_max_bytes"]) / 2**20,
                 mem["entries"]))


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    a = argv[2:]
    if cmd == "tiles":
        make_tiles(*a)
    elif cmd == "styles":
        write_styles(*a)
    elif cmd == "mapscript":
        run_mapscript(*a)
    elif cmd == "mapnik":
        run_mapnik(*a)
    elif cmd == "map2img":
        run_map2img(*a)
    elif cmd == "report":
        report(*a)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
