#!/usr/bin/python3
"""The coverage question with PostGIS + pgRouting (pgr_drivingDistance).

usage: pgrouting.py WORK_DB OUTDIR OUT.json [--minutes 15] [--walk-kmh 5]

WORK_DB is the SpatiaLite database spatialite.py built: the same noded walk
edges (pgRouting has no noding of its own that keeps bridge levels; its
pgr_nodeNetwork would split every crossing), the walk nodes, the parcel
centroids and the polyclinics are copied into a PostgreSQL database
"tgis_bench" (recreated; load time reported, not counted). Then, timed
by the server's clock_timestamp() between statements:

snap     nodes as PostGIS points with a GiST index; every centroid and
         polyclinic to its nearest node by KNN (ORDER BY geom <-> point
         LIMIT 1, in a LATERAL join), within 500 m
route    one pgr_drivingDistance call from all polyclinics' nodes, no
         distance limit, undirected (walking): every node's cost from
         every start
assign   per node the nearest polyclinic (start cost = its access walk),
         per parcel node cost + access walk, covered share per district

psql runs as the postgres user (runuser); per-parcel results go to
OUTDIR/pg_parcels.csv for the comparison.
"""
import json
import os
import sqlite3
import subprocess
import sys


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
    work, outdir, out = args
    limit = minutes * 60.0
    spm = 3.6 / walk_kmh
    os.makedirs(outdir, exist_ok=True)
    os.chmod(outdir, 0o777)

    con = sqlite3.connect(work)
    srid = con.execute("SELECT srid FROM geometry_columns WHERE f_table_name = 'wnodes'"
                       ).fetchone()[0]

    def dump(name, sql):
        path = os.path.join(outdir, name)
        with open(path, "w") as f:
            for row in con.execute(sql):
                f.write(",".join("" if v is None else repr(v) if isinstance(v, float)
                                 else str(v) for v in row) + "\n")
        os.chmod(path, 0o644)
        return path

    edges = dump("edges.csv", "SELECT id, node_from, node_to, cost FROM walk_edges")
    nodes = dump("nodes.csv", "SELECT id, x, y FROM wnodes")
    parcels = dump("parcels.csv", "SELECT id, residents, district, x, y FROM pc")
    fac = dump("fac.csv", "SELECT id, facility_id, x, y FROM fac")
    con.close()
    result = os.path.join(outdir, "pg_parcels.csv")
    districts = os.path.join(outdir, "pg_districts.csv")
    node_costs = os.path.join(outdir, "pg_nodes.csv")
    for p in (result, districts, node_costs):
        if os.path.exists(p):
            os.remove(p)

    def psql(db, sql):
        r = subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-At",
                            "-v", "ON_ERROR_STOP=1", "-d", db],
                           input=sql, capture_output=True, text=True, cwd="/")
        if r.returncode != 0:
            sys.exit("pgrouting.py: psql failed:\n" + r.stderr)
        return r.stdout

    psql("postgres", "DROP DATABASE IF EXISTS tgis_bench;\nCREATE DATABASE tgis_bench;\n")
    mark = "INSERT INTO bench_t VALUES ('%s', clock_timestamp());\n"
    sql = f"""
CREATE EXTENSION postgis;
CREATE EXTENSION pgrouting;
SET work_mem = '256MB';
CREATE TEMP TABLE bench_t (stage text, t timestamptz);
{mark % 'start'}
CREATE TABLE walk_edges (id bigint PRIMARY KEY, source bigint, target bigint, cost float8);
\\copy walk_edges FROM '{edges}' CSV
CREATE TABLE wnodes (id bigint PRIMARY KEY, x float8, y float8);
\\copy wnodes FROM '{nodes}' CSV
CREATE TABLE parcels (id bigint PRIMARY KEY, residents bigint, district text, x float8, y float8);
\\copy parcels FROM '{parcels}' CSV
CREATE TABLE fac (fidx int PRIMARY KEY, facility_id bigint, x float8, y float8);
\\copy fac FROM '{fac}' CSV
ANALYZE;
{mark % 'load'}
ALTER TABLE wnodes ADD COLUMN geom geometry(Point, {srid});
UPDATE wnodes SET geom = ST_SetSRID(ST_MakePoint(x, y), {srid});
CREATE INDEX wnodes_geom ON wnodes USING gist (geom);
ANALYZE wnodes;
{mark % 'snap: nodes GiST index'}
CREATE TABLE psnap AS
SELECT p.id, n.id AS node, n.d AS snap_m
  FROM parcels p CROSS JOIN LATERAL (
       SELECT w.id, sqrt((w.x - p.x) ^ 2 + (w.y - p.y) ^ 2) AS d FROM wnodes w
        ORDER BY w.geom <-> ST_SetSRID(ST_MakePoint(p.x, p.y), {srid}) LIMIT 1) n
 WHERE n.d <= 500;
{mark % 'snap: parcels to nearest node (KNN)'}
CREATE TABLE fnode AS
SELECT f.fidx, f.facility_id, n.id AS node, n.d * {spm!r} AS access_s
  FROM fac f CROSS JOIN LATERAL (
       SELECT w.id, sqrt((w.x - f.x) ^ 2 + (w.y - f.y) ^ 2) AS d FROM wnodes w
        ORDER BY w.geom <-> ST_SetSRID(ST_MakePoint(f.x, f.y), {srid}) LIMIT 1) n
 WHERE n.d <= 500;
{mark % 'snap: facilities to nearest node'}
CREATE TABLE dd AS
SELECT from_v, node, agg_cost FROM pgr_drivingDistance(
  'SELECT id, source, target, cost FROM walk_edges',
  (SELECT array_agg(DISTINCT node) FROM fnode), 1e12, directed => false);
{mark % 'route: pgr_drivingDistance, unbounded'}
CREATE TABLE node_best AS
SELECT DISTINCT ON (d.node) d.node, f.fidx, f.facility_id, d.agg_cost + f.access_s AS cost
  FROM dd d JOIN fnode f ON f.node = d.from_v
 ORDER BY d.node, d.agg_cost + f.access_s, f.fidx;
CREATE UNIQUE INDEX node_best_node ON node_best (node);
CREATE TABLE pg_parcels AS
SELECT p.id, p.residents, p.district, s.node, s.snap_m, b.facility_id,
       b.cost + s.snap_m * {spm!r} AS seconds,
       coalesce(b.cost + s.snap_m * {spm!r} <= {limit!r}, false) AS covered
  FROM parcels p LEFT JOIN psnap s ON s.id = p.id LEFT JOIN node_best b ON b.node = s.node;
CREATE TABLE pg_districts AS
SELECT district, count(*) AS parcels, sum(residents) AS residents,
       sum(residents) FILTER (WHERE covered) AS covered_residents
  FROM pg_parcels GROUP BY district;
{mark % 'assign: nearest facility, districts'}
SELECT 'T', stage, extract(epoch FROM t - lag(t) OVER (ORDER BY t)) FROM bench_t ORDER BY t;
SELECT 'C', (SELECT count(*) FROM dd), (SELECT count(*) FROM fnode),
       (SELECT count(*) FROM pg_parcels WHERE node IS NULL),
       (SELECT count(*) FROM pg_parcels WHERE covered),
       (SELECT sum(residents) FROM pg_parcels WHERE covered),
       (SELECT sum(residents) FROM pg_parcels),
       (SELECT extversion FROM pg_extension WHERE extname = 'pgrouting'),
       (SELECT extversion FROM pg_extension WHERE extname = 'postgis');
\\copy (SELECT id, node, snap_m, facility_id, seconds, covered::int FROM pg_parcels ORDER BY id) TO '{result}' CSV
\\copy (SELECT node, fidx, cost FROM node_best ORDER BY node) TO '{node_costs}' CSV
\\copy (SELECT district, parcels, residents, coalesce(covered_residents, 0) FROM pg_districts ORDER BY district) TO '{districts}' CSV
"""
    text = psql("tgis_bench", sql)
    stages, counts = [], None
    for line in text.splitlines():
        f = line.split("|")
        if f[0] == "T" and f[2]:
            stages.append([f[1], float(f[2])])
        elif f[0] == "C":
            counts = f[1:]
    load = stages.pop(0)
    res = {
        "stages": [[s, t, None] for s, t in stages],
        "total": [sum(t for _, t in stages), None],
        "load": load[1],
        "counts": {"dd_rows": int(counts[0]), "facilities": int(counts[1]),
                   "unsnapped_parcels": int(counts[2]), "covered_parcels": int(counts[3]),
                   "covered_residents": int(counts[4] or 0), "residents": int(counts[5])},
        "covered_share": int(counts[4] or 0) / int(counts[5]) if int(counts[5]) else None,
        "pgrouting": counts[6], "postgis": counts[7],
        "parcels_csv": result, "districts_csv": districts, "nodes_csv": node_costs,
    }
    with open(out, "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
