"""Generates N incidents straight into DuckDB, in exactly the layout dlt gives them.

The layout (tables, columns, types, dlt's `_dlt_*` columns) and the catalogs (services,
teams, users, ...) are copied from a real small ingestion; `incidents` and its child tables
are generated with SQL over `range(N)`. Pseudo-random values come from `hash(i, salt)`, not
`random()`: `setseed` does not make `random()` repeatable across DuckDB's threads, a hash does.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

S = "incident_api"
GENERATED = ("incidents", "incidents__milestones", "incidents__services", "incidents__environments",
             "incidents__functionalities", "incidents__team_assignments", "incidents__role_assignments",
             "retrospectives")
LOAD_ID = "1700000000.000001"
SPAN_DAYS = 730  # incidents start within two years before the anchor
ANCHOR = "2026-11-01 00:00:00+00"


def u(salt: str, *keys: str) -> str:
    """A uniform in [0, 1) from the row's keys."""
    return f"((hash({', '.join(keys)}, '{salt}') % 1000003) / 1000003.0)"


def pick(alias: str, salt: str, *keys: str) -> str:
    """A join condition picking one row of a numbered catalog (`cat_<name> <alias>`)."""
    catalog = {"s": "cat_services", "e": "cat_environments", "f": "cat_functionalities",
               "t": "cat_teams", "usr": "cat_users"}[alias]
    return f"{alias}.k = (hash({', '.join(keys)}, '{salt}') % (select count(*) from {catalog}))"


# incident i: severity, start, duration (minutes, log-uniform 10 min .. ~4 days)
BASE = f"""
create temp table base as
select i,
       substr(md5('inc' || i), 1, 8) || '-' || substr(md5('inc' || i), 9, 4) || '-4' ||
           substr(md5('inc' || i), 14, 3) || '-a' || substr(md5('inc' || i), 18, 3) || '-' ||
           substr(md5('inc' || i), 21, 12) as id,
       substr(md5('dlt' || i), 1, 14) as dlt_id,
       case when {u('sev', 'i')} < 0.03 then 'SEV1' when {u('sev', 'i')} < 0.13 then 'SEV2'
            when {u('sev', 'i')} < 0.43 then 'SEV3' when {u('sev', 'i')} < 0.71 then 'SEV4'
            when {u('sev', 'i')} < 0.83 then 'SEV5' when {u('sev', 'i')} < 0.86 then 'GAMEDAY'
            when {u('sev', 'i')} < 0.91 then 'MAINTENANCE' when {u('sev', 'i')} < 0.93 then 'UNSET'
            else null end as severity,
       cast('{ANCHOR}' as timestamptz) - to_seconds(cast({u('start', 'i')} * {SPAN_DAYS} * 86400 as bigint))
           as started_at,
       10 * pow(600, {u('dur', 'i')}) as duration_min
from range({{n}}) t(i)
"""

MILESTONES = f"""
create temp table ms as
select b.i, m.j, m.type, substr(md5('ms' || b.i || '-' || m.j), 1, 14) as dlt_id,
       b.started_at + to_seconds(cast(
           case when m.type like 'postmortem%' or m.type = 'closed'
                then b.duration_min * 60 + m.frac * 86400
                else m.frac * b.duration_min * 60 end as bigint)) as occurred_at
from base b, (values (0, 'started', 0.0, 1.0), (1, 'detected', 0.03, 0.7),
                     (2, 'acknowledged', 0.08, 0.9), (3, 'investigating', 0.1, 0.8),
                     (4, 'identified', 0.4, 0.7), (5, 'mitigated', 0.8, 0.6),
                     (6, 'resolved', 1.0, 0.97), (7, 'postmortem_started', 2.0, 0.35),
                     (8, 'postmortem_completed', 7.0, 0.28), (9, 'closed', 8.0, 0.2)) m(j, type, frac, p)
where {u('ms', 'b.i', 'm.j')} < m.p
  and (m.j < 7 or b.severity in ('SEV1', 'SEV2', 'SEV3'))
"""

CHILDREN = {
    "incidents__milestones": """
select substr(md5('mid' || i || '-' || j), 1, 32) as id, type, occurred_at,
       occurred_at as created_at, occurred_at as updated_at,
       b.dlt_id as _dlt_root_id, b.dlt_id as _dlt_parent_id,
       row_number() over (partition by ms.i order by ms.j) - 1 as _dlt_list_idx, ms.dlt_id as _dlt_id
from ms join base b using (i)""",
    "incidents__services": f"""
select s.id, s.name, b.dlt_id as _dlt_root_id, b.dlt_id as _dlt_parent_id, x.j as _dlt_list_idx,
       substr(md5('svc' || b.i || '-' || x.j), 1, 14) as _dlt_id
from base b, range(3) x(j), cat_services s
where (x.j = 0 or {u('nsvc', 'b.i', 'x.j')} < 0.2) and {pick('s', 'svc', 'b.i', 'x.j')}""",
    "incidents__environments": f"""
select e.id, e.name, b.dlt_id as _dlt_root_id, b.dlt_id as _dlt_parent_id, 0 as _dlt_list_idx,
       substr(md5('env' || b.i), 1, 14) as _dlt_id
from base b join cat_environments e on {pick('e', 'env', 'b.i')}""",
    "incidents__functionalities": f"""
select f.id, f.name, b.dlt_id as _dlt_root_id, b.dlt_id as _dlt_parent_id, 0 as _dlt_list_idx,
       substr(md5('fn' || b.i), 1, 14) as _dlt_id
from base b join cat_functionalities f on {pick('f', 'fn', 'b.i')}
where {u('hasfn', 'b.i')} < 0.4""",
    "incidents__team_assignments": f"""
select substr(md5('ta' || b.i || '-' || x.j), 1, 32) as id, 'active' as status,
       b.started_at as created_at, b.started_at as updated_at,
       t.id as team__id, t.name as team__name, t.slug as team__slug,
       b.dlt_id as _dlt_root_id, b.dlt_id as _dlt_parent_id, x.j as _dlt_list_idx,
       substr(md5('ta' || b.i || '-' || x.j), 1, 14) as _dlt_id
from base b, range(2) x(j), cat_teams t
where (x.j = 0 or {u('nteam', 'b.i')} < 0.3) and {pick('t', 'team', 'b.i', 'x.j')}""",
    "incidents__role_assignments": f"""
select substr(md5('ra' || b.i || '-' || x.j), 1, 32) as id, 'active' as status,
       b.started_at as created_at, b.started_at as updated_at,
       usr.id as user__id, usr.name as user__name, usr.email as user__email,
       r.id as incident_role__id, r.name as incident_role__name,
       b.dlt_id as _dlt_root_id, b.dlt_id as _dlt_parent_id, x.j as _dlt_list_idx,
       substr(md5('ra' || b.i || '-' || x.j), 1, 14) as _dlt_id
from base b, range(3) x(j), cat_users usr, cat_incident_roles r
where (x.j = 0 or {u('nrole', 'b.i', 'x.j')} < 0.4) and r.k = x.j % (select count(*) from cat_incident_roles)
  and {pick('usr', 'user', 'b.i', 'x.j')}""",
}

INCIDENTS = f"""
select b.id, s.name || ': generated incident ' || b.i as name, 'Generated for the benchmark.' as summary,
       cur.type as current_milestone, b.severity,
       case when b.severity = 'SEV1' then 'P1' when b.severity = 'SEV2' then 'P1'
            when b.severity = 'SEV3' then 'P2' when b.severity = 'SEV4' then 'P3'
            when b.severity = 'SEV5' then 'P4' end as priority,
       'https://app.firehydrant.io/incidents/' || b.id as incident_url,
       case when cur.has_pm then substr(md5('rt' || b.i), 1, 32) end as report_id,
       b.started_at + interval 2 minute as created_at, b.started_at,
       case when {u('disc', 'b.i')} < 0.02 and cur.type in ('resolved', 'closed')
            then cur.at + interval 10 day end as discarded_at,
       row_number() over (order by b.started_at, b.id) as number,
       cur.type not in ('resolved', 'postmortem_started', 'postmortem_completed', 'closed') as active,
       '{LOAD_ID}' as _dlt_load_id, b.dlt_id as _dlt_id
from base b
join (select i, arg_max(type, occurred_at) as type, max(occurred_at) as at,
             bool_or(type = 'postmortem_started') as has_pm
      from ms group by i) cur using (i)
join incidents__services s0 on s0._dlt_parent_id = b.dlt_id and s0._dlt_list_idx = 0
join cat_services s on s.id = s0.id
"""

RETROSPECTIVES = """
select i.report_id as id, 'Retrospective: ' || i.name as name, i.id as incident_id,
       m.occurred_at as created_at, m.occurred_at as updated_at,
       '{LOAD_ID}' as _dlt_load_id, substr(md5('rtd' || i.report_id), 1, 14) as _dlt_id
from {S}.incidents i
join {S}.incidents__milestones m on m._dlt_parent_id = i._dlt_id and m.type = 'postmortem_started'
where i.report_id is not null
"""


def generate(layout_db: Path, target: Path, incidents: int) -> dict:
    """Writes `target` with the layout of `layout_db`; returns rows per generated table."""
    started = time.perf_counter()
    target.unlink(missing_ok=True)
    with duckdb.connect(str(target)) as con:
        con.execute(f"attach '{layout_db}' as src (read_only)")
        con.execute(f"create schema {S}")
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = 'src' "
            f"and table_schema = '{S}' and table_type = 'BASE TABLE'").fetchall()]
        for t in tables:
            # copies the layout; catalogs and dlt's bookkeeping tables keep their rows
            limit = " limit 0" if t in GENERATED or t.startswith("incidents__") else ""
            con.execute(f'create table {S}."{t}" as select * from src.{S}."{t}"{limit}')
        for catalog in ("services", "environments", "functionalities", "teams", "users", "incident_roles"):
            con.execute(f"create temp table cat_{catalog} as select *, row_number() over (order by id) - 1 as k "
                        f"from src.{S}.{catalog}")
        con.execute("detach src")
        con.execute(BASE.format(n=incidents))
        con.execute(MILESTONES)
        for table, select in CHILDREN.items():
            insert(con, table, select)
        con.execute("create temp view incidents__services as select * from incident_api.incidents__services")
        insert(con, "incidents", INCIDENTS)
        insert(con, "retrospectives", RETROSPECTIVES.format(LOAD_ID=LOAD_ID, S=S))
        con.execute("drop view incidents__services")
        rows = {t: con.execute(f'select count(*) from {S}."{t}"').fetchone()[0] for t in GENERATED}
        con.execute("checkpoint")
    return {"rows": rows, "seconds": time.perf_counter() - started}


def insert(con: duckdb.DuckDBPyConnection, table: str, select: str) -> None:
    """`insert ... by name`, keeping only the columns the layout has (dlt drops all-null ones)."""
    have = {c for (c,) in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [S, table]).fetchall()}
    if not have:
        raise RuntimeError(f"the layout has no table {S}.{table}")
    con.execute(f"create or replace temp view gen as {select}")
    cols = [c for (c,) in con.execute("select column_name from (describe gen)").fetchall() if c in have]
    quoted = ", ".join(f'"{c}"' for c in cols)
    con.execute(f'insert into {S}."{table}" ({quoted}) select {quoted} from gen')
