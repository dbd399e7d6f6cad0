"""The Arrow path (columnar.py) against dlt's own normalizer: the same records loaded both ways
into DuckDB must give the same tables, column for column, value for value."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import dlt
import duckdb
import orjson
import pyarrow as pa
import pytest
import requests

from incident_assets.incident_api.coercion import ColumnTypes
from incident_assets.incident_api.columnar import ArrowTables, with_tombstones
from incident_assets.incident_api.endpoints import ENDPOINTS_BY_NAME, Endpoint, resource_hints
from incident_assets.incident_api.flatten import Names, RowFlattener
from incident_assets.incident_api.pages import Page, read_page
from incident_assets.simulator import DEFAULT_TOKEN, Simulator

SCHEMA = "incident_api"

INCIDENT = {
    "id": "inc-1",
    "number": 7,
    "name": "Checkout down",
    "discarded_at": None,
    "labels": {"team": "payments"},
    "created_by": {"id": "u-1", "name": "Ada"},
    "milestones": [
        {"id": "m-1", "type": "started", "occurred_at": "2026-01-01T10:00:00.000Z"},
        {"id": "m-2", "type": "resolved", "occurred_at": "2026-01-01T11:30:00.000Z"},
    ],
    "tag_list": ["db", None, "checkout"],
    "services": [],
}


ARROW_ENDPOINTS = [e.name for e in ENDPOINTS_BY_NAME.values() if e.arrow]


def serve(**simulator: Any) -> dict[str, list[dict[str, Any]]]:
    """Real records from the simulator: every record of every Arrow endpoint."""
    with Simulator(**simulator) as sim:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {DEFAULT_TOKEN}"
        out = {}
        for name in ARROW_ENDPOINTS:
            endpoint, records, page_number = ENDPOINTS_BY_NAME[name], [], 1
            while page_number:
                body = session.get(f"{sim.base_url}/{endpoint.path}", params={
                    **endpoint.params, "per_page": 200, "page": page_number}).json()
                records += body["data"]
                page_number = body["pagination"]["next"]
            out[name] = records
        return out


@pytest.fixture(scope="module")
def served() -> dict[str, list[dict[str, Any]]]:
    """A small organisation's tidy records."""
    return serve(incidents=150, seed=11)


@pytest.fixture(scope="module")
def messy() -> dict[str, list[dict[str, Any]]]:
    """A real account's records: free-form objects with keys of their own, non-ASCII keys,
    numbers sent as strings, absent vs null, empty and full lists."""
    return serve(incidents=600, seed=11, messy=True)


def page(records: list[dict[str, Any]], endpoint: str = "incidents") -> Page:
    """A page as the Arrow endpoints read it (`read_page`): from the bytes of an answer."""
    response = requests.Response()
    response.status_code = 200
    response.url = f"http://127.0.0.1/v1/{ENDPOINTS_BY_NAME[endpoint].path}"
    response.raw = io.BytesIO(orjson.dumps({"data": records, "pagination": {"page": 1, "next": None}}))
    return read_page(response, ArrowTables(ENDPOINTS_BY_NAME[endpoint], "replace").json_paths)


def load_with_dlt_normalizer(endpoint: Endpoint, records: list[dict], db: Path) -> None:
    pipeline = dlt.pipeline("normalizer", destination=dlt.destinations.duckdb(str(db)),
                            dataset_name=SCHEMA, pipelines_dir=str(db.parent / "normalizer"))
    resource = dlt.resource(records, write_disposition="replace", **resource_hints(endpoint))
    pipeline.run(resource)


def load_with_arrow_path(endpoint: Endpoint, pages: list[Any], db: Path,
                         known_children: bool = False) -> ArrowTables:
    tables = ArrowTables(endpoint, "replace")
    hints = {k: v for k, v in resource_hints(endpoint).items() if k != "nested_hints"}

    @dlt.resource(write_disposition="replace", **hints)
    def arrow_resource():
        if known_children:
            tables.known_children(resource)
        yield from tables.batches(pages, resource)

    resource = arrow_resource()
    tables.declare_children(resource)
    # the project's replace strategy (destination.py)
    destination = dlt.destinations.duckdb(str(db), replace_strategy="insert-from-staging")
    pipeline = dlt.pipeline("arrow", destination=destination,
                            dataset_name=SCHEMA, pipelines_dir=str(db.parent / "arrow"))
    pipeline.run(resource, loader_file_format="parquet")
    return tables


def contents(db: Path) -> dict[str, tuple[dict[str, str], list[tuple]]]:
    """Per table with rows: column types and sorted rows of every non-dlt column, child rows
    keyed by their parent's `id` and list index instead of dlt's row ids. (The Arrow path also
    creates the declared child tables that got no rows, empty: dlt's normalizer does not.)"""
    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        names = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [SCHEMA]).fetchall()
            if not t.startswith("_dlt")]
        for table in names:
            types = dict(con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ?", [SCHEMA, table]).fetchall())
            columns = sorted(c for c in types if not c.startswith("_dlt"))
            select = ", ".join(f't."{c}"' for c in columns)
            if "__" in table:
                parent = table.rsplit("__", 1)[0]
                sql = (f'select p.id, t._dlt_list_idx, {select} from {SCHEMA}."{table}" t '
                       f'join {SCHEMA}."{parent}" p on t._dlt_parent_id = p._dlt_id')
            else:
                sql = f'select {select} from {SCHEMA}."{table}" t'
            rows = con.execute(sql).fetchall()
            json_at = [i + (2 if "__" in table else 0) for i, c in enumerate(columns) if types[c] == "JSON"]
            rows = [tuple(json.loads(v) if i in json_at and v is not None else v for i, v in enumerate(r))
                    for r in rows]
            if rows:
                out[table] = ({c: types[c] for c in columns}, sorted(rows, key=repr))
    return out


@pytest.mark.parametrize("name", ARROW_ENDPOINTS)
def test_arrow_path_equals_dlts_normalizer_on_served_pages(served, tmp_path, name):
    endpoint, records = ENDPOINTS_BY_NAME[name], served[name]
    pages = [page(records[i:i + 50], name) for i in range(0, len(records), 50)]
    load_with_dlt_normalizer(endpoint, records, tmp_path / "normalizer.duckdb")
    tables = load_with_arrow_path(endpoint, pages, tmp_path / "arrow.duckdb")
    assert not tables.row_by_row  # tidy pages all take the vectorized path
    expected, actual = contents(tmp_path / "normalizer.duckdb"), contents(tmp_path / "arrow.duckdb")
    assert len(expected) >= 2 and expected[name][1]  # the root and child tables
    assert actual == expected


@pytest.mark.parametrize("name", ARROW_ENDPOINTS)
def test_arrow_path_equals_dlts_normalizer_on_a_real_accounts_records(messy, tmp_path, name):
    endpoint, records = ENDPOINTS_BY_NAME[name], messy[name]
    pages = [page(records[i:i + 200], name) for i in range(0, len(records), 200)]
    load_with_dlt_normalizer(endpoint, records, tmp_path / "normalizer.duckdb")
    tables = load_with_arrow_path(endpoint, pages, tmp_path / "arrow.duckdb")
    expected, actual = contents(tmp_path / "normalizer.duckdb"), contents(tmp_path / "arrow.duckdb")
    assert actual == expected
    assert not tables.row_by_row  # numbers sent as strings are settled, the pages stay vectorized
    if name == "alerts":  # payload keys as dlt names them, a threshold sent as text beside numbers
        assert {"data__m_trique", "data__value", "data__threshold", "data__threshold__v_text"} <= set(
            expected["alerts__events"][0])


def test_odd_records_equal_dlts_normalizer_too(tmp_path):
    # a field changing type (a variant column), null items in lists, a list emptied
    odd = [INCIDENT, {**INCIDENT, "id": "inc-2", "number": "INC-2", "milestones": None, "tag_list": []},
           {**INCIDENT, "id": "inc-3", "number": "12", "labels": {"a": None, "b": [1, {"c": 2}]}}]
    endpoint = ENDPOINTS_BY_NAME["incidents"]
    load_with_dlt_normalizer(endpoint, odd, tmp_path / "normalizer.duckdb")
    tables = load_with_arrow_path(endpoint, [page(odd[:1]), page(odd[1:])], tmp_path / "arrow.duckdb")
    expected, actual = contents(tmp_path / "normalizer.duckdb"), contents(tmp_path / "arrow.duckdb")
    assert expected["incidents"][0]["number__v_text"] == "VARCHAR"
    assert actual == expected
    assert not tables.row_by_row  # the number sent as a string is settled on the vectorized path


def test_a_page_arrow_cannot_hold_goes_row_by_row_alone_with_the_same_result(tmp_path):
    # an object in one record, a string in the next: no Arrow column holds both
    declared = {**INCIDENT, "id": "inc-2", "context_object": {"object_type": "Alert", "Objekt-ID": "a-1"}}
    odd = [declared, {**INCIDENT, "id": "inc-3", "context_object": "declared from Slack", "number": "n/a"}]
    endpoint = ENDPOINTS_BY_NAME["incidents"]
    load_with_dlt_normalizer(endpoint, [INCIDENT, *odd], tmp_path / "normalizer.duckdb")
    tables = load_with_arrow_path(endpoint, [page([INCIDENT]), page(odd)], tmp_path / "arrow.duckdb")
    expected, actual = contents(tmp_path / "normalizer.duckdb"), contents(tmp_path / "arrow.duckdb")
    assert {"context_object", "context_object__objekt_id", "number__v_text"} <= set(expected["incidents"][0])
    assert actual == expected
    assert sum(tables.row_by_row.values()) == 1  # that page only


def test_replace_empties_the_child_tables_too(served, tmp_path):
    alerts = served["alerts"]
    endpoint, db = ENDPOINTS_BY_NAME["alerts"], tmp_path / "arrow.duckdb"
    load_with_arrow_path(endpoint, [page(alerts)], db)
    assert len(contents(db)["alerts__services"][1]) > 0
    # the next run: fewer alerts, none linked to a service or an incident any more
    fewer = [{**a, "services": [], "incidents": []} for a in alerts[:10]]
    load_with_arrow_path(endpoint, [page(fewer)], db, known_children=True)
    assert row_counts(db) == {"alerts": 10, "alerts__services": 0, "alerts__incidents": 0,
                              "alerts__environments": sum(len(a["environments"]) for a in fewer)}
    # and a run that finds no alerts at all
    load_with_arrow_path(endpoint, [page([])], db, known_children=True)
    assert set(row_counts(db).values()) == {0}


def row_counts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"select count(*) from {SCHEMA}.{t}").fetchone()[0]
                for t in ("alerts", "alerts__services", "alerts__incidents", "alerts__environments")}


def test_a_duplicate_record_is_taken_once(tmp_path):
    endpoint = ENDPOINTS_BY_NAME["incidents"]
    load_with_arrow_path(endpoint, [page([INCIDENT]), page([INCIDENT, {**INCIDENT, "id": "inc-2"}])],
                         tmp_path / "arrow.duckdb")
    tables = contents(tmp_path / "arrow.duckdb")
    columns, rows = tables["incidents"]
    assert [row[list(columns).index("id")] for row in rows] == ["inc-1", "inc-2"]
    assert len(tables["incidents__milestones"][1]) == 4
    assert len(tables["incidents__tag_list"][1]) == 6


def test_child_row_ids_follow_the_list_index():
    first = RowFlattener(Names(dlt.Schema("incident_api").naming))
    first.add_root("incidents", INCIDENT, "root-1", load_id="123.4")
    root_id = first.rows["incidents"][0]["_dlt_id"]
    # child row ids follow the list index; a null item is a row too, as in dlt
    assert [r["_dlt_id"] for r in first.rows["incidents__milestones"]] == [f"{root_id}.0", f"{root_id}.1"]
    assert [r.get("value") for r in first.rows["incidents__tag_list"]] == ["db", None, "checkout"]


def test_an_incident_without_rows_in_a_loaded_table_gets_a_tombstone():
    rows = pa.table({"_dlt_id": ["a.0"], "_dlt_parent_id": ["a"], "_dlt_root_id": ["a"],
                     "_dlt_list_idx": pa.array([0], pa.int64()), "id": ["m-1"]})
    table = with_tombstones(rows, pa.array(["a", "b"]))
    assert table.to_pylist() == [
        {"_dlt_id": "a.0", "_dlt_parent_id": "a", "_dlt_root_id": "a", "_dlt_list_idx": 0, "id": "m-1",
         "_dlt_deleted": None},
        {"_dlt_id": "b.deleted", "_dlt_parent_id": "b", "_dlt_root_id": "b", "_dlt_list_idx": -1, "id": None,
         "_dlt_deleted": True},
    ]


def test_declared_types_and_dlt_style_timestamp_detection():
    types = ColumnTypes({"t": {"started_at": "timestamp"}}, dlt.Schema("x").naming)
    ((_, started),) = types.python_column("t", "started_at", ["2026-01-01T10:00:00.000Z", None])
    assert started.type == pa.timestamp("us", tz="UTC")
    ((_, undeclared),) = types.arrow_column("t", "team__created_at", pa.array(["2026-01-01T10:00:00Z"]))
    assert undeclared.type == pa.timestamp("us", tz="UTC")
    # as dlt: the first value decides; a later one that does not fit goes to a variant column
    assert [(n, a.to_pylist()) for n, a in types.arrow_column("t", "duration", pa.array(["PT1H", "P1D"]))] == [
        ("duration", ["PT1H", "P1D"])]
    assert [(n, a.type) for n, a in types.arrow_column("t", "seen_at", pa.array(["2026-01-01T10:00:00Z", "never"]))] == [
        ("seen_at", pa.timestamp("us", tz="UTC")), ("seen_at__v_text", pa.string())]
    # a number sent as a string where a number fits is coerced, else a variant
    assert [(n, a.to_pylist()) for n, a in types.python_column("t", "size", [3, "4", "4 KB", None])] == [
        ("size", [3, 4, None, None]), ("size__v_text", [None, None, "4 KB", None])]
