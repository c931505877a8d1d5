#!/usr/bin/python3
"""Print the coverage benchmark's table: times per method and stage, the
SpatiaLite/tgis ratio, covered shares, and how far the answers agree.

usage: compare.py WORKDIR

WORKDIR is what bench/coverage.sh leaves: db.sqlite (tgis, with its runs),
tgis-run-N.{json,time} and tgis-pin-N.{json,time} (the CLI's --json output
and /usr/bin/time -v), sl.sqlite + sl.json (spatialite.py), pg/pg.json
(pgrouting.py) or pg/skipped (why), node_times.txt (bench/coverage/node_times.c)
and load.txt (load averages).

Agreement, checked three ways:
- node times: with the polyclinics on the nodes the SQL route snapped them
  to (start cost: their access walk), tgis's Dijkstra on tgis's own graph
  (node_times), VirtualRouting's isochrones, pgr_drivingDistance, and a
  plain Dijkstra written here over the SQL route's edge table, node by node
  (matched by the coordinate in centimetres);
- door-to-door seconds per parcel: tgis (centroid snapped to the nearest
  point of the nearest road, along the edge to either end) against the SQL
  routes (centroid to the nearest node in a straight line);
- covered shares, city and per district.
"""
import collections
import glob
import heapq
import json
import math
import os
import re
import sqlite3
import statistics
import sys


def parse_time(path):
    t = {}
    for line in open(path):
        line = line.strip()
        if line.startswith("Elapsed (wall clock)"):
            v = line.rsplit(" ", 1)[1].split(":")
            t["wall"] = sum(float(x) * 60 ** i for i, x in enumerate(reversed(v)))
        elif line.startswith("User time"):
            t["user"] = float(line.rsplit(" ", 1)[1])
        elif line.startswith("System time"):
            t["sys"] = float(line.rsplit(" ", 1)[1])
        elif line.startswith("Percent of CPU"):
            t["cpu_pct"] = float(line.rsplit(" ", 1)[1].rstrip("%"))
        elif line.startswith("Maximum resident set size"):
            t["rss_mib"] = int(line.rsplit(" ", 1)[1]) / 1024.0
    return t


def tgis_runs(workdir, prefix):
    runs = []
    for f in sorted(glob.glob(os.path.join(workdir, prefix + "-*.json"))):
        r = parse_time(f[:-5] + ".time")
        r["json"] = json.load(open(f))
        runs.append(r)
    return runs


def median_run(runs):
    """The run of median wall time (the lower middle for an even count)."""
    s = sorted(runs, key=lambda r: r["wall"])
    return s[(len(s) - 1) // 2]


def dijkstra(adj, starts):
    """Multi-source Dijkstra: starts = [(node, cost, facility)]. Returns
    {node: (cost, facility)}; equal costs go to the lower facility."""
    best = {}
    heap = []
    for node, cost, fac in starts:
        if node not in best or (cost, fac) < best[node]:
            best[node] = (cost, fac)
            heapq.heappush(heap, (cost, fac, node))
    while heap:
        c, f, u = heapq.heappop(heap)
        if best[u] != (c, f):
            continue
        for v, w in adj[u]:
            nc = c + w
            b = best.get(v)
            if b is None or (nc, f) < b:
                best[v] = (nc, f)
                heapq.heappush(heap, (nc, f, v))
    return best


def pct(a, b):
    return 100.0 * a / b if b else float("nan")


def fmt(v, w=8, p=2):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "%*s" % (w, "-")
    return "%*.*f" % (w, p, v)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    wd = sys.argv[1]
    sl = json.load(open(os.path.join(wd, "sl.json")))
    pg = None
    pg_skip = None
    if os.path.exists(os.path.join(wd, "pg", "pg.json")):
        pg = json.load(open(os.path.join(wd, "pg", "pg.json")))
    elif os.path.exists(os.path.join(wd, "pg", "skipped")):
        pg_skip = open(os.path.join(wd, "pg", "skipped")).read().strip()
    runs = tgis_runs(wd, "tgis-run")
    pins = tgis_runs(wd, "tgis-pin")
    drys = tgis_runs(wd, "tgis-dry")
    tr = median_run(runs)
    tp = median_run(pins) if pins else None
    td = median_run(drys) if drys else None
    tj = tr["json"]
    minutes = tj["minutes"]
    limit = minutes * 60.0

    con = sqlite3.connect(os.path.join(wd, "sl.sqlite"))
    spm = None
    for (cost, length) in con.execute("SELECT cost, len FROM walk_edges WHERE len > 1 LIMIT 1"):
        spm = cost / length

    # ---- times ----------------------------------------------------------------------
    print()
    print("Stages (seconds of wall time; SpatiaLite also CPU seconds of its process)")
    print("  tgis coverage --json, run of median wall time of %d (and %d pinned to one core):"
          % (len(runs), len(pins)))
    for name, key in (("read layers", "load"), ("graph: noding, adjacency, components", "graph"),
                      ("snap: parcels and facilities to edges", "snap"),
                      ("route: one multi-source Dijkstra + per parcel", "search"),
                      ("E2SFCA (a bounded search per facility; extra)", "e2sfca"),
                      ("assign: districts, facilities", "aggregate"),
                      ("write result tables", "write")):
        print("    %-50s %8.3f %s" % (name, tj["timing"][key],
                                       ("  pinned %8.3f" % tp["json"]["timing"][key]) if tp else ""))
    print("    %-50s %8.3f %s" % ("whole process (/usr/bin/time)", tr["wall"],
                                   ("  pinned %8.3f" % tp["wall"]) if tp else ""))
    for label, rs in (("all runs", runs), ("pinned", pins), ("pinned, --dry-run", drys)):
        if rs:
            print("    %-50s %s" % (label + ", wall (CPU) s:", ", ".join(
                "%.2f (%.2f)" % (r["wall"], r["user"] + r["sys"]) for r in rs)))
    print("  SpatiaLite %s (SQLite %s), SQL:" % (sl["spatialite"], sl["sqlite"]))
    for name, w, c in sl["stages"]:
        print("    %-50s %8.3f   cpu %8.3f" % (name, w, c))
    print("    %-50s %8.3f   cpu %8.3f" % ("total", sl["total"][0], sl["total"][1]))
    bw, bc, bn = sl["bounded_isochrones"]
    print("    %-50s %8.3f   cpu %8.3f  (%d nodes; not in the total)"
          % ("(route, isochrones bounded by %g min)" % minutes, bw, bc, bn))
    if pg:
        print("  pgRouting %s + PostGIS %s (PostgreSQL server time, wall):"
              % (pg["pgrouting"], pg["postgis"]))
        for name, w, _ in pg["stages"]:
            print("    %-50s %8.3f" % (name, w))
        print("    %-50s %8.3f" % ("total", pg["total"][0]))
        print("    %-50s %8.3f  (not in the total)" % ("(load: COPY of edges, nodes, centroids)",
                                                       pg["load"]))
    else:
        print("  pgRouting: skipped (%s)" % pg_skip)

    # ---- agreement: nodes -------------------------------------------------------------------
    adj = collections.defaultdict(list)
    for a, b, w in con.execute("SELECT node_from, node_to, cost FROM walk_edges"):
        adj[a].append((b, w))
        adj[b].append((a, w))
    starts = [(n, a, f) for f, n, a in con.execute("SELECT fidx, node, access_s FROM fnode")]
    ref = dijkstra(adj, starts)
    key_nodes = collections.defaultdict(list)
    node_key = {}
    for nid, kx, ky in con.execute("SELECT id, kx, ky FROM nodes"):
        key_nodes[(kx, ky)].append(nid)
        node_key[nid] = (kx, ky)
    slc = {n: (c, f) for n, f, c in con.execute("SELECT node, fidx, cost FROM node_best")}
    tg = collections.defaultdict(list)
    header = ""
    for line in open(os.path.join(wd, "node_times.txt")):
        if line.startswith("#"):
            header = line[1:].strip()
            continue
        kx, ky, c, f = line.split()
        tg[(int(kx), int(ky))].append((float(c), int(f)))
    tgc = {}  # SL node id -> tgis (cost, facility); several nodes at one key pair by cost
    unmatched = 0
    for k, lst in tg.items():
        ids = key_nodes.get(k, [])
        if len(ids) != len(lst):
            unmatched += 1
            continue
        ids = sorted(ids, key=lambda n: ref.get(n, (math.inf, -1)))
        for n, v in zip(ids, sorted(lst)):
            tgc[n] = v
    pgc = None
    if pg:
        pgc = {}
        for line in open(pg["nodes_csv"]):
            n, f, c = line.strip().split(",")
            pgc[int(n)] = (float(c), int(f))

    def node_diff(name, other, base, base_name):
        d = []
        missing = 0
        example = None
        for n, (c, f) in base.items():
            o = other.get(n)
            if o is None or not math.isfinite(o[0]):
                missing += 1
                continue
            d.append(o[0] - c)
            if abs(o[0] - c) > 1e-3 and (example is None or abs(o[0] - c) > example[0]):
                example = (abs(o[0] - c), n, o[0], c, f)
        extra = sum(1 for n, o in other.items() if n not in base and math.isfinite(o[0]))
        big = [x for x in d if abs(x) > 1e-3]
        print("  %-28s vs %-18s %8d nodes, max |diff| %10.6f s, %6d differ > 1 ms "
              "(%d higher, %d lower), %d missing, %d extra"
              % (name, base_name, len(d), max((abs(x) for x in d), default=0), len(big),
                 sum(1 for x in big if x > 0), sum(1 for x in big if x < 0), missing, extra))
        if example:
            print("  %-28s    e.g. node %d (SQL numbering): %.4f s against %.4f s, nearest "
                  "polyclinic index %d" % ("", example[1], example[2], example[3], example[4]))
        return big

    print()
    print("Node-to-node travel times (%d walk nodes reached; the %d polyclinics on the SQL "
          "route's nearest nodes, start cost their access walk)" % (len(ref), len(starts)))
    print("  tgis graph: %s; SQL noding: %d nodes, %d edges (%d walkable)%s"
          % (header, sl["counts"]["nodes"], sl["counts"]["edges"], sl["counts"]["walk_edges"],
             ("; %d coordinates unmatched" % unmatched) if unmatched else ""))
    node_diff("tgis (node_times)", tgc, ref, "reference Dijkstra")
    sl_bad = node_diff("SpatiaLite VirtualRouting", slc, ref, "reference Dijkstra")
    if pgc is not None:
        node_diff("pgr_drivingDistance", pgc, ref, "reference Dijkstra")
    node_diff("tgis (node_times)", tgc, slc, "SpatiaLite")

    # ---- agreement: parcels ------------------------------------------------------------------
    run_id = tj["run_id"]
    con.execute("ATTACH ? AS t", (os.path.join(wd, "db.sqlite"),))
    t_rows = con.execute("""SELECT parcel_id, facility_id, seconds, snap_m, covered FROM t.coverage_parcels
                        WHERE run_id = ? ORDER BY parcel_id""", (run_id,)).fetchall()
    s_rows = con.execute("""SELECT id, facility_id, seconds, snap_m, node, residents, covered
                              FROM sl_parcels ORDER BY id""").fetchall()
    fac_id = {f: i for f, i in con.execute("SELECT fidx, facility_id FROM fnode")}
    p_rows = None
    if pg:
        p_rows = {}
        for line in open(pg["parcels_csv"]):
            f = line.rstrip("\n").split(",")
            p_rows[int(f[0])] = float(f[4]) if f[4] else math.nan
    tmap = {r[0]: r for r in t_rows}

    def parcel_stats(label, pairs):
        """pairs: (tgis seconds, other seconds, same facility)."""
        d = [o - t for t, o, _ in pairs if t is not None and o is not None
             and math.isfinite(t) and math.isfinite(o)]
        n = len(d)
        if not n:
            return
        ad = [abs(x) for x in d]
        print("  %-44s %8d  %6.1f%% %6.1f%% %6.1f%%  %+8.2f %+8.2f  %6.1f%%"
              % (label, n, pct(sum(x > 1 for x in ad), n), pct(sum(x > 10 for x in ad), n),
                 pct(sum(x > 60 for x in ad), n), statistics.median(d), statistics.fmean(d),
                 pct(sum(1 for _, _, s in pairs if s), len(pairs))))

    # the node-snapped parcels with reference node times (the SQL snap, correct routing)
    refp = {}
    for pid, _, _, snap, node, _, _ in s_rows:
        if node is not None and node in ref:
            c, f = ref[node]
            refp[pid] = (c + snap * spm, fac_id[f])
    pairs_sl, pairs_ref, pairs_small, pairs_slref = [], [], [], []
    for pid, fid, sec, snap, node, res, cov in s_rows:
        t = tmap.get(pid)
        if not t:
            continue
        pairs_sl.append((t[2], sec, t[1] == fid))
        if pid in refp:
            pairs_ref.append((t[2], refp[pid][0], t[1] == refp[pid][1]))
            pairs_slref.append((refp[pid][0], sec, refp[pid][1] == fid))
            if t[3] is not None and t[3] < 5.0:
                pairs_small.append((t[2], refp[pid][0], t[1] == refp[pid][1]))
    print()
    print("Door-to-door seconds per parcel (%s; positive: the SQL route is slower)"
          % "tgis snaps to the nearest point of an edge and walks along it to the better end;"
          " the SQL routes walk straight to the nearest node")
    print("  %-44s %8s  %7s %7s %7s  %8s %8s  %7s" % ("", "parcels", ">1 s", ">10 s", ">60 s",
                                                       "median", "mean", "same fac"))
    parcel_stats("SpatiaLite vs tgis", pairs_sl)
    parcel_stats("node snap, reference times vs tgis", pairs_ref)
    parcel_stats("  the same, tgis snap < 5 m", pairs_small)
    parcel_stats("SpatiaLite vs node snap, reference times", pairs_slref)
    if p_rows is not None:
        pp = [(sec, p_rows.get(pid), True) for pid, _, sec, _, _, _, _ in s_rows]
        d = [abs(b - a) for a, b, _ in pp if a is not None and b is not None
             and math.isfinite(a) and math.isfinite(b)]
        print("  %-44s %8d  %d differ > 1 ms, max %.6f s"
              % ("pgRouting vs SpatiaLite", len(d), sum(x > 1e-3 for x in d), max(d, default=0)))
        d = [abs(p_rows[pid] - refp[pid][0]) for pid in refp if pid in p_rows]
        print("  %-44s %8d  %d differ > 1 ms, max %.6f s"
              % ("pgRouting vs node snap, reference times", len(d), sum(x > 1e-3 for x in d),
                 max(d, default=0)))

    # ---- tgis's own method, recomputed ----------------------------------------------------------
    # The edge snapping tgis does (docs: analytics/graph.h), written again
    # here on the SQL route's edges (the same graph, node for node), for a
    # sample of parcels: nearest point on a walk edge, along the edge to
    # either end, the facilities snapped the same way as sources.
    n_sample = int(os.environ.get("SAMPLE", "20000"))
    geo = collections.defaultdict(list)
    for road, i, x, y in con.execute("SELECT road, i, x, y FROM rv ORDER BY road, i"):
        geo[road].append((x, y))
    cell = 100.0
    grid = collections.defaultdict(list)
    edges = con.execute("SELECT id, node_from, node_to, len, road, i_from, i_to FROM walk_edges "
                        "ORDER BY road, i_from").fetchall()
    seq = 0  # segments in tgis's order: roads by id, vertices in order (geom_xy)
    for k, (eid, a, b, length, road, i0, i1) in enumerate(edges):
        pts = geo[road][i0 - 1:i1]
        m = 0.0
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            seq += 1
            seg = (k, x0, y0, x1, y1, m, seq)
            for cx in range(int(min(x0, x1) // cell), int(max(x0, x1) // cell) + 1):
                for cy in range(int(min(y0, y1) // cell), int(max(y0, y1) // cell) + 1):
                    grid[(cx, cy)].append(seg)
            m += math.hypot(x1 - x0, y1 - y0)

    def snap(px, py, maxd=500.0, tie=1e-3):
        """[(edge index, metres along it, distance)] of the nearest points:
        every edge whose nearest point is within `tie` metres of the least
        distance (a centroid in the middle of a square block is as near to
        all four sides). The arithmetic is tgis's (analytics/snap.c), and
        the first candidate is the one tgis takes: least squared distance,
        then the first segment."""
        cand = {}
        best = math.inf
        cx, cy = int(px // cell), int(py // cell)
        r = 0
        while r * cell <= maxd + cell:
            for i in range(-r, r + 1):
                for j in range(-r, r + 1):
                    if max(abs(i), abs(j)) != r:
                        continue
                    for k, x0, y0, x1, y1, m, sq in grid.get((cx + i, cy + j), ()):
                        dx, dy = x1 - x0, y1 - y0
                        ll = dx * dx + dy * dy
                        t = 0.0
                        if ll > 0:
                            t = ((px - x0) * dx + (py - y0) * dy) / ll
                            t = 0.0 if t < 0 else (1.0 if t > 1 else t)
                        qx, qy = px - (x0 + t * dx), py - (y0 + t * dy)
                        d2 = qx * qx + qy * qy
                        d = math.sqrt(d2)
                        if d <= best + tie and (k not in cand or (d2, sq) < cand[k][2]):
                            cand[k] = (m + t * math.sqrt(ll), d, (d2, sq))
                            best = min(best, d)
            if best + tie <= r * cell:
                break
            r += 1
        if best > maxd:
            return []
        return [(k, a, d) for k, (a, d, _) in sorted(cand.items(), key=lambda c: c[1][2])
                if d <= best + tie]

    def cost_at(k, along, d, node_cost):
        """(seconds, facility) to a point on edge k, `along` metres from its start."""
        _, a, b, length, *_ = edges[k]
        ca = node_cost.get(a, (math.inf, -1))
        cb = node_cost.get(b, (math.inf, -1))
        return min((ca[0] + along * spm + d * spm, ca[1]),
                   (cb[0] + (length - along) * spm + d * spm, cb[1]))

    fstarts = []
    fac_ties = 0
    for fidx, x, y in con.execute("SELECT id, x, y FROM fac ORDER BY id"):
        s = snap(x, y) if x is not None else []
        fac_ties += len(s) > 1
        if s:
            k, along, d = s[0]
            _, a, b, length, *_ = edges[k]
            fstarts.append((a, (d + along) * spm, fidx))
            fstarts.append((b, (d + length - along) * spm, fidx))
    eref = dijkstra(adj, fstarts)
    ids = [r[0] for r in t_rows]
    step = max(1, len(ids) // n_sample) if n_sample > 0 else 0
    sample = set(ids[::step]) if step else set()
    n_chk = n_ok = n_tie = n_tie_worse = n_fac = 0
    worst_ok, worst_tie = 0.0, 0.0
    bad = []
    for pid, x, y in con.execute("SELECT id, x, y FROM pc"):
        if pid not in sample:
            continue
        n_chk += 1
        t = tmap[pid]
        s = snap(x, y) if x is not None else []
        if not s:
            if t[2] is None:
                n_ok += 1
            else:
                bad.append((pid, t[2], None))
            continue
        costs = sorted(cost_at(k, a, d, eref) for k, a, d in s)
        match = [c for c in costs if t[2] is not None and abs(c[0] - t[2]) <= 1e-3]
        if not match:
            bad.append((pid, t[2], costs[0][0]))
            continue
        n_ok += 1
        n_fac += any(fac_id.get(f) == t[1] for _, f in match)
        if len(s) > 1:
            n_tie += 1
            if t[2] - costs[0][0] > 1e-3:
                n_tie_worse += 1
                worst_tie = max(worst_tie, t[2] - costs[0][0])
        worst_ok = max(worst_ok, abs(match[0][0] - t[2]))
    print()
    print("tgis's per-parcel answer recomputed independently (edge snapping + Dijkstra in Python, "
          "on %d sampled parcels; %d polyclinics equidistant from several edges):"
          % (n_chk, fac_ties))
    print("  %d agree within 1 ms (max %.6f s; same facility %d), %d do not%s"
          % (n_ok, worst_ok, n_fac, len(bad),
             ("; e.g. (parcel, tgis, recomputed) %s" % bad[:3]) if bad else ""))
    print("  %d parcels are equally near several edges (block centres); for %d of them tgis's "
          "pick (first edge in storage order) is not the quickest: up to %.1f s slower"
          % (n_tie, n_tie_worse, worst_tie))

    # ---- covered shares -------------------------------------------------------------------------
    res_of = {r[0]: r[5] for r in s_rows}
    dist_of = dict(con.execute("SELECT id, district FROM sl_parcels"))
    total_res = sum(res_of.values())
    ref_cov = sum(res_of[p] for p, (c, _) in refp.items() if c <= limit)
    shares = [("tgis (edge snap)", tj["covered_share"]),
              ("SpatiaLite (node snap)", sl["covered_share"])]
    if pg:
        shares.append(("pgRouting (node snap)", pg["covered_share"]))
    shares.append(("node snap, reference times", ref_cov / total_res if total_res else math.nan))
    print()
    print("Covered share of residents, walk %g min to the nearest polyclinic" % minutes)
    for name, s in shares:
        print("  %-30s %7.3f%%   %+7.3f pp vs tgis" % (name, 100 * s,
                                                     100 * (s - tj["covered_share"])))
    t_cov = {r[0]: r[4] for r in t_rows}
    both = sum(1 for r in s_rows if r[6] and t_cov.get(r[0]))
    only_t = sum(1 for r in s_rows if not r[6] and t_cov.get(r[0]))
    only_s = sum(1 for r in s_rows if r[6] and not t_cov.get(r[0]))
    print("  parcels covered by both %d, by tgis only %d, by SpatiaLite only %d"
          % (both, only_t, only_s))
    t_res = sum(res_of.get(p, 0) for p, c in t_cov.items() if c)
    t_sec = sum(res_of.get(r[0], 0) for r in t_rows if r[2] is not None and r[2] <= limit)
    print("  tgis's coverage_parcels: %d residents covered (summary says %d; seconds <= %g: %d)"
          % (t_res, tj["covered_residents"], limit, t_sec))
    sdist = {d["soato"]: d for d in sl["districts"]}
    print("  %-8s %-16s %10s %9s %9s %9s" % ("soato", "district", "residents", "tgis",
                                             "SpatiaLite", "pgRouting" if pg else ""))
    pgd = {}
    if pg:
        for line in open(pg["districts_csv"]):
            f = line.strip().split(",")
            pgd[f[0] or None] = (int(f[2]), int(f[3]))
    for d in tj["districts"]:
        s = sdist.get(d["soato"], {})
        sres = s.get("residents") or 0
        p = pgd.get(d["soato"])
        print("  %-8s %-16s %10d %8.2f%% %8.2f%% %s" % (
            d["soato"] or "-", (d["name"] or "")[:16], d["residents"], 100 * (d["share"] or 0),
            pct(s.get("covered_residents") or 0, sres),
            ("%8.2f%%" % pct(p[1], p[0])) if p else ""))

    # ---- the table --------------------------------------------------------------------------------
    def sl_sum(prefix, stages):
        return sum(w for n, w, *_ in stages if n.startswith(prefix))

    print()
    print("Summary (seconds; graph includes noding; tgis extra: E2SFCA, process start and "
          "exit; load avg %s)"
          % open(os.path.join(wd, "load.txt")).read().strip())
    print("  %-34s %7s %7s %7s %7s %7s %7s %8s %8s %8s %8s" % (
        "method", "read", "graph", "snap", "route", "assign", "write", "extra", "total",
        "CPU", "peak MiB"))

    def trow(label, r):
        t = r["json"]["timing"]
        extra = r["wall"] - (t["load"] + t["graph"] + t["snap"] + t["search"] + t["aggregate"]
                             + t["write"])
        print("  %-34s %s %s %s %s %s %s %s %s %s %s" % (
            label, fmt(t["load"], 7), fmt(t["graph"], 7), fmt(t["snap"], 7),
            fmt(t["search"], 7), fmt(t["aggregate"], 7), fmt(t["write"], 7), fmt(extra, 8),
            fmt(r["wall"], 8), fmt(r["user"] + r["sys"], 8), fmt(r["rss_mib"], 8, 0)))

    trow("tgis (median of %d)" % len(runs), tr)
    if tp:
        trow("tgis, taskset -c 0 (median of %d)" % len(pins), tp)
    if td:
        trow("  the same, --dry-run (no write)", td)
    st = sl["stages"]
    print("  %-34s %s %s %s %s %s %s %s %s %s %s" % (
        "SpatiaLite SQL + VirtualRouting", fmt(None, 7), fmt(sl_sum("graph", st), 7),
        fmt(sl_sum("snap", st), 7), fmt(sl_sum("route", st), 7), fmt(sl_sum("assign", st), 7),
        fmt(None, 7), fmt(None, 8), fmt(sl["total"][0], 8), fmt(sl["total"][1], 8),
        fmt(sl["peak_rss_mib"], 8, 0)))
    if pg:
        st = pg["stages"]
        print("  %-34s %s %s %s %s %s %s %s %s %s %s" % (
            "pgRouting (SQL route's edges)", fmt(None, 7), fmt(None, 7), fmt(sl_sum("snap", st), 7),
            fmt(sl_sum("route", st), 7), fmt(sl_sum("assign", st), 7), fmt(None, 7),
            fmt(None, 8), fmt(pg["total"][0], 8), fmt(None, 8), fmt(None, 8)))
    else:
        print("  %-34s skipped: %s" % ("pgRouting", pg_skip))
    noding = sl_sum("graph: noding", sl["stages"])
    cpu_t = tr["user"] + tr["sys"]
    print()
    print("  SpatiaLite / tgis: %.1fx wall, %.1fx CPU (target >= 20x); without the SQL noding "
          "(a network already noded): %.1fx wall"
          % (sl["total"][0] / tr["wall"], sl["total"][1] / cpu_t,
             (sl["total"][0] - noding) / tr["wall"]))
    if tp:
        print("  tgis whole run on one core: %.2f s wall, %.2f s CPU (target < 2 s): %s "
              "(it got %.0f%% of the core)"
              % (tp["wall"], tp["user"] + tp["sys"],
                 "met" if tp["wall"] < 2.0 else
                 ("met in CPU time only" if tp["user"] + tp["sys"] < 2.0 else "NOT met"),
                 tp.get("cpu_pct", float("nan"))))
    if td:
        print("  the same without writing the result tables (--dry-run): %.2f s wall, %.2f s CPU"
              % (td["wall"], td["user"] + td["sys"]))
    if pg:
        print("  pgRouting / tgis: %.1fx wall (edges and centroids given; no noding)"
              % (pg["total"][0] / tr["wall"]))
    print("  covered share: tgis %.3f%%, SpatiaLite %.3f%%%s"
          % (100 * tj["covered_share"], 100 * sl["covered_share"],
             (", pgRouting %.3f%%" % (100 * pg["covered_share"])) if pg else ""))
    print("  scale: %d parcels, %d residents, %d polyclinics, %d graph edges (%d nodes); "
          "VirtualRouting wrong on %d of %d nodes"
          % (tj["parcels"], tj["residents"], tj["facilities"], tj["network_edges"],
             tj["network_nodes"], len(sl_bad), len(ref)))


if __name__ == "__main__":
    main()
