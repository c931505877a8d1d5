#!/usr/bin/python3
"""The coverage question answered the way a SpatiaLite user would, in SQL.

usage: spatialite.py TGIS_DB WORK_DB OUT.json [--minutes 15] [--walk-kmh 5]

Reads the roads, parcels and polyclinics of a tgis database (attached read
only) and writes everything it builds into WORK_DB (recreated). Stages, each
timed (wall and CPU seconds of this process, which runs SQLite in-process):

graph    noding in SQL, no ST_Node: every road vertex (a recursive CTE over
         ST_PointN), keyed by its coordinate rounded to the centimetre;
         a vertex repeated in a row counts once; a vertex is a node where a
         road ends (every road there meets it, whatever its level) or where
         two or more vertices of the same level share the key (a bridge
         passes over a street without a node). Edges run between consecutive
         nodes along each road, their length summed from the vertices --
         the noding rules of tgis (analytics/graph.h), so both sides route
         on the same graph. Then the walkable edges (all classes but
         motorway; cost = metres * 3.6 / walk_kmh seconds, both ways) and
         CreateRouting() (VirtualRouting, Dijkstra).
snap     every parcel's centroid (ST_Centroid) and every polyclinic to the
         nearest node of the walk network, through the nodes' R-tree
         (SpatiaLite's KNN virtual table was tried: ~3 ms a point, and as a
         correlated subquery it returns NULL in 5.0.1). A 75 m search box
         first, 500 m (tgis's snap limit) for the parcels it leaves.
route    one VirtualRouting isochrone per polyclinic with no cost limit
         ("NodeFrom = n AND Cost <= 1e12"): every node's time from every
         polyclinic, starting at the polyclinic's access walk.
assign   per node the nearest polyclinic (least time), per parcel node
         time + access walk from the centroid, covered if within the
         threshold; per district the covered share of residents.

Also timed but outside the total: the same isochrones bounded by the
threshold (all that coverage alone needs), for scale.
"""
import json
import os
import resource
import sqlite3
import sys
import time


def main():
    args = sys.argv[1:]
    minutes, walk_kmh = 15.0, 5.0
    if "--minutes" in args:
        i = args.index("--minutes")
        minutes = float(args[i + 1])
        del args[i:i + 2]
    if "--walk-kmh" in args:
        i = args.index("--walk-kmh")
        walk_kmh = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 3:
        sys.exit(__doc__)
    src, work, out = args
    limit = minutes * 60.0
    spm = 3.6 / walk_kmh  # seconds per metre

    for p in (work, work + "-journal"):
        if os.path.exists(p):
            os.remove(p)
    con = sqlite3.connect(work, isolation_level=None, uri=True)
    con.enable_load_extension(True)
    con.load_extension("mod_spatialite")
    # What a user tuning SQLite for a batch job would set.
    for p in ("PRAGMA journal_mode = OFF", "PRAGMA synchronous = OFF",
              "PRAGMA cache_size = -2000000", "PRAGMA temp_store = MEMORY"):
        con.execute(p)
    con.execute("SELECT InitSpatialMetadata(1)")
    con.execute("ATTACH ? AS src", ("file:%s?mode=ro" % os.path.abspath(src),))
    srid = con.execute("SELECT srid FROM src.geometry_columns "
                       "WHERE f_table_name = 'roads'").fetchone()[0]

    stages = {}  # name -> [wall, cpu]
    order = []

    class stage:
        def __init__(self, name):
            self.name = name

        def __enter__(self):
            self.w, self.c = time.perf_counter(), time.process_time()

        def __exit__(self, *exc):
            if self.name not in stages:
                stages[self.name] = [0.0, 0.0]
                order.append(self.name)
            stages[self.name][0] += time.perf_counter() - self.w
            stages[self.name][1] += time.process_time() - self.c

    def q(sql, *a):
        return con.execute(sql, *a).fetchall()

    # ---- graph: noding -------------------------------------------------------
    with stage("graph: noding (SQL)"):
        q("""CREATE TABLE rv AS
             WITH RECURSIVE v(road, i, n, level, g) AS (
               SELECT id, 1, ST_NumPoints(geom), level, geom FROM src.roads
                WHERE ST_NumPoints(geom) >= 2
               UNION ALL SELECT road, i + 1, n, level, g FROM v WHERE i < n)
             SELECT road, i, level, ST_X(ST_PointN(g, i)) AS x,
                    ST_Y(ST_PointN(g, i)) AS y FROM v""")
        # Keys in centimetres (coordinates are positive UTM metres); drop a
        # vertex equal to the one before; mark the road ends; metres along.
        q("""CREATE TABLE vx AS
             SELECT road, i, level, kx, ky,
                    (i = min(i) OVER r OR i = max(i) OVER r) AS is_end,
                    sum(seg) OVER (PARTITION BY road ORDER BY i) AS m
               FROM (SELECT road, i, level, kx, ky,
                            coalesce(Sqrt((x - px) * (x - px) + (y - py) * (y - py)), 0) AS seg
                       FROM (SELECT road, i, level, x, y,
                                    CAST(x * 100 + 0.5 AS INTEGER) AS kx,
                                    CAST(y * 100 + 0.5 AS INTEGER) AS ky,
                                    lag(x) OVER w AS px, lag(y) OVER w AS py,
                                    lag(CAST(x * 100 + 0.5 AS INTEGER)) OVER w AS pkx,
                                    lag(CAST(y * 100 + 0.5 AS INTEGER)) OVER w AS pky
                               FROM rv WINDOW w AS (PARTITION BY road ORDER BY i))
                      WHERE pkx IS NULL OR kx <> pkx OR ky <> pky)
             WINDOW r AS (PARTITION BY road)""")
        q("CREATE TABLE ks AS SELECT kx, ky, max(is_end) AS e FROM vx GROUP BY kx, ky")
        q("CREATE TABLE kls AS SELECT kx, ky, level, count(*) AS c FROM vx "
          "GROUP BY kx, ky, level")
        # A node: a road end here (one node for every level), or two
        # vertices of one level (one node per level).
        q("""CREATE TABLE nv AS
             SELECT v.road, v.i, v.m, v.kx, v.ky,
                    CASE WHEN k.e THEN NULL ELSE v.level END AS nlevel
               FROM vx v JOIN ks k USING (kx, ky) JOIN kls l USING (kx, ky, level)
              WHERE k.e OR l.c >= 2""")
        q("CREATE TABLE nodes (id INTEGER PRIMARY KEY, kx INTEGER, ky INTEGER, "
          "nlevel INTEGER)")
        q("INSERT INTO nodes (kx, ky, nlevel) SELECT DISTINCT kx, ky, nlevel FROM nv "
          "ORDER BY kx, ky, nlevel")
        q("CREATE UNIQUE INDEX nodes_key ON nodes (kx, ky, nlevel)")
        q("""CREATE TABLE edges AS
             SELECT road, i_from, i AS i_to, node_from, node_to, m - m_from AS len FROM (
               SELECT nv.road, nv.i, nv.m, n.id AS node_to, lag(nv.i) OVER w AS i_from,
                      lag(n.id) OVER w AS node_from, lag(nv.m) OVER w AS m_from
                 FROM nv JOIN nodes n
                   ON n.kx = nv.kx AND n.ky = nv.ky AND n.nlevel IS nv.nlevel
               WINDOW w AS (PARTITION BY nv.road ORDER BY nv.i))
              WHERE node_from IS NOT NULL""")

    # ---- graph: VirtualRouting ---------------------------------------------------
    with stage("graph: CreateRouting"):
        q("CREATE TABLE walk_edges (id INTEGER PRIMARY KEY, node_from INTEGER NOT NULL, "
          "node_to INTEGER NOT NULL, len DOUBLE NOT NULL, cost DOUBLE NOT NULL, "
          "road INTEGER, i_from INTEGER, i_to INTEGER)")
        q("""INSERT INTO walk_edges (node_from, node_to, len, cost, road, i_from, i_to)
             SELECT e.node_from, e.node_to, e.len, e.len * ?, e.road, e.i_from, e.i_to
               FROM edges e
               JOIN src.roads r ON r.id = e.road
              WHERE r.class <> 'motorway' AND e.node_from <> e.node_to""", (spm,))
        ok = q("SELECT CreateRouting('roads_net_data', 'roads_net', 'walk_edges', "
               "'node_from', 'node_to', NULL, 'cost', NULL, 0, 1)")[0][0]
        if ok != 1:
            sys.exit("CreateRouting failed: %s" % q("SELECT CreateRouting_GetLastError()")[0][0])

    # ---- snap ------------------------------------------------------------------------
    with stage("snap: nodes R-tree"):
        q("CREATE TABLE wnodes (id INTEGER PRIMARY KEY, x DOUBLE, y DOUBLE)")
        q("SELECT AddGeometryColumn('wnodes', 'geom', ?, 'POINT', 'XY')", (srid,))
        q("""INSERT INTO wnodes (id, x, y, geom)
             SELECT id, kx / 100.0, ky / 100.0, MakePoint(kx / 100.0, ky / 100.0, ?)
               FROM nodes WHERE id IN (SELECT node_from FROM walk_edges
                                       UNION SELECT node_to FROM walk_edges)""", (srid,))
        q("SELECT CreateSpatialIndex('wnodes', 'geom')")
    with stage("snap: centroids"):
        q("""CREATE TABLE pc AS
             SELECT id, residents, district, ST_X(c) AS x, ST_Y(c) AS y
               FROM (SELECT id, residents, district, ST_Centroid(geom) AS c FROM src.parcels)""")

    def nearest(table, r, where="1"):
        # Per point of `table` (id, x, y) the nearest walk node within r
        # metres: the nodes in the R-tree box (1 m wider than r: the R-tree
        # keeps single-precision bounds), the least distance (with min(),
        # SQLite takes the bare column n.id from the row of the minimum).
        # A node beyond r may be in the box's corner; it is not kept, as a
        # nearer one may lie outside the box.
        return """SELECT id, node, Sqrt(d2) AS d FROM (
                    SELECT p.id AS id, n.id AS node,
                           min((n.x - p.x) * (n.x - p.x) + (n.y - p.y) * (n.y - p.y)) AS d2
                      FROM %(t)s p CROSS JOIN idx_wnodes_geom b
                      CROSS JOIN wnodes n ON n.id = b.pkid
                     WHERE b.xmin >= p.x - %(b)g AND b.xmax <= p.x + %(b)g
                       AND b.ymin >= p.y - %(b)g AND b.ymax <= p.y + %(b)g AND %(w)s
                     GROUP BY p.id)
                  WHERE d2 <= %(r)g * %(r)g""" % {"t": table, "b": r + 1, "r": r, "w": where}

    with stage("snap: parcels to nearest node"):
        q("CREATE TABLE psnap (id INTEGER PRIMARY KEY, node INTEGER, snap_m DOUBLE)")
        q("INSERT INTO psnap " + nearest("pc", 75))
        q("INSERT INTO psnap " + nearest("pc", 500, "p.id NOT IN (SELECT id FROM psnap)"))
        q("""CREATE TABLE pnode AS
             SELECT p.id, p.residents, p.district, s.node, s.snap_m
               FROM pc p LEFT JOIN psnap s USING (id)""")
    with stage("snap: facilities to nearest node"):
        q("""CREATE TABLE fac AS
             SELECT row_number() OVER (ORDER BY id) - 1 AS id, id AS facility_id,
                    ST_X(geom) AS x, ST_Y(geom) AS y
               FROM src.facilities WHERE kind = 'polyclinic'""")
        q("""CREATE TABLE fnode AS
             SELECT f.id AS fidx, f.facility_id, s.node, f.x, f.y, s.d AS snap_m,
                    s.d * ? AS access_s
               FROM fac f JOIN (%s) s USING (id)""" % nearest("fac", 500), (spm,))
    facs = q("SELECT fidx, node, access_s FROM fnode ORDER BY fidx")

    # ---- route -----------------------------------------------------------------------
    with stage("route: 62 isochrones, unbounded" if len(facs) == 62
               else "route: %d isochrones, unbounded" % len(facs)):
        q("CREATE TABLE node_fac (node INTEGER, fidx INTEGER, cost DOUBLE)")
        for fidx, node, access in facs:
            q("INSERT INTO node_fac VALUES (?, ?, ?)", (node, fidx, access))
            q("""INSERT INTO node_fac SELECT NodeTo, ?, ? + Cost FROM roads_net
                  WHERE NodeFrom = ? AND Cost <= 1e12""", (fidx, access, node))
    bounded = [time.perf_counter(), time.process_time()]
    n_bounded = 0
    for fidx, node, access in facs:
        if limit - access >= 0:
            n_bounded += q("SELECT count(*) FROM roads_net WHERE NodeFrom = ? AND Cost <= ?",
                           (node, limit - access))[0][0]
    bounded = [time.perf_counter() - bounded[0], time.process_time() - bounded[1]]

    # ---- assign ----------------------------------------------------------------------
    with stage("assign: nearest facility, districts"):
        # SQLite: with min() the other bare columns come from the row of the minimum.
        q("""CREATE TABLE node_best AS
             SELECT node, fidx, min(cost) AS cost FROM node_fac GROUP BY node""")
        q("CREATE UNIQUE INDEX node_best_node ON node_best (node)")
        q("""CREATE TABLE sl_parcels AS
             SELECT p.id, p.residents, p.district, p.node, p.snap_m, f.facility_id,
                    b.cost + p.snap_m * ? AS seconds,
                    coalesce(b.cost + p.snap_m * ? <= ?, 0) AS covered
               FROM pnode p LEFT JOIN node_best b ON b.node = p.node
               LEFT JOIN fac f ON f.id = b.fidx""", (spm, spm, limit))
        districts = q("""SELECT district, count(*), sum(residents), sum(residents * covered)
                           FROM sl_parcels GROUP BY district ORDER BY district IS NULL, district""")

    tot = q("""SELECT count(*), sum(residents), sum(covered), sum(residents * covered),
                      sum(node IS NULL), sum(seconds IS NULL) FROM sl_parcels""")[0]
    counts = {
        "roads_vertices": q("SELECT count(*) FROM rv")[0][0],
        "nodes": q("SELECT count(*) FROM nodes")[0][0],
        "edges": q("SELECT count(*) FROM edges")[0][0],
        "walk_edges": q("SELECT count(*) FROM walk_edges")[0][0],
        "walk_nodes": q("SELECT count(*) FROM wnodes")[0][0],
        "node_fac_rows": q("SELECT count(*) FROM node_fac")[0][0],
        "facilities": len(facs),
        "parcels": tot[0], "residents": tot[1], "covered_parcels": tot[2],
        "covered_residents": tot[3], "unsnapped_parcels": tot[4], "unreachable_parcels": tot[5],
    }
    res = {
        "stages": [[k] + stages[k] for k in order],
        "total": [sum(v[0] for v in stages.values()), sum(v[1] for v in stages.values())],
        "bounded_isochrones": bounded + [n_bounded],
        "counts": counts,
        "covered_share": tot[3] / tot[1] if tot[1] else None,
        "districts": [{"soato": d, "parcels": n, "residents": r, "covered_residents": c}
                      for d, n, r, c in districts],
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "sqlite": q("SELECT sqlite_version()")[0][0],
        "spatialite": q("SELECT spatialite_version()")[0][0],
    }
    con.close()
    with open(out, "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
