"""The floor of the report benchmark: `python -m benchmarks.report_floor <duckdb file>`.

The floor is one `create table as select` pass over the raw incident data: every incident
joined to each of its milestones (the largest raw table, six per incident), with the columns
the reports read from both, written as a new table. It scans the two biggest raw tables once,
builds one hash join and writes one row per milestone, which is the kind of work each report
does, so the reports' time divided by the floor's (measured in the same benchmark run, on the
same file) says how many such passes the reports cost. The absolute times move with the
machine; that ratio should not.

The table goes to a schema of its own, dropped afterwards: the file is left as it was found.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb

RAW_SCHEMA = "incident_api"
FLOOR_SCHEMA = "report_floor"
FLOOR_SQL = f"""
create table {FLOOR_SCHEMA}.incident_milestones as
select i.id, i.number, i.name, i.severity, i.priority, i.current_milestone,
       i.created_at, i.started_at, i.discarded_at, m.type, m.occurred_at
from {RAW_SCHEMA}.incidents as i
join {RAW_SCHEMA}.incidents__milestones as m on m._dlt_parent_id = i._dlt_id
"""


def measure(db: Path) -> dict[str, float]:
    """Seconds (wall and CPU) of one floor pass over `db`, and the rows it wrote."""
    with duckdb.connect(str(db)) as con:
        con.execute(f"drop schema if exists {FLOOR_SCHEMA} cascade")
        con.execute(f"create schema {FLOOR_SCHEMA}")
        started, cpu_started = time.perf_counter(), time.process_time()
        con.execute(FLOOR_SQL)
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
        (rows,) = con.execute(f"select count(*) from {FLOOR_SCHEMA}.incident_milestones").fetchone()
        con.execute(f"drop schema {FLOOR_SCHEMA} cascade")
    return {"seconds": seconds, "cpu_s": round(cpu_s, 3), "rows": rows}


if __name__ == "__main__":
    from benchmarks.measure import emit

    emit(measure(Path(sys.argv[1])))
