"""The Arrow path for incidents (columnar.py): pure functions, no HTTP."""

from __future__ import annotations

import pyarrow as pa

from incident_assets.incident_api.columnar import Batch, IncidentTables, typed_columns
from incident_assets.incident_api.endpoints import ENDPOINTS_BY_NAME

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
    "tag_list": ["db", "checkout"],
    "services": [],
}


def test_an_incident_becomes_the_normalizers_rows():
    tables = IncidentTables(ENDPOINTS_BY_NAME["incidents"])
    batch = Batch()
    batch.add_root(tables, INCIDENT, load_id="123.4")

    (root,) = batch.rows["incidents"]
    assert {k: v for k, v in root.items() if not k.startswith("_dlt")} == {
        "id": "inc-1", "number": 7, "name": "Checkout down", "labels": '{"team":"payments"}',
        "created_by__id": "u-1", "created_by__name": "Ada",
    }
    root_id = root["_dlt_id"]
    assert root["_dlt_load_id"] == "123.4"
    assert [(r["id"], r["_dlt_list_idx"], r["_dlt_parent_id"], r["_dlt_root_id"])
            for r in batch.rows["incidents__milestones"]] == [
        ("m-1", 0, root_id, root_id), ("m-2", 1, root_id, root_id)]
    assert [r["value"] for r in batch.rows["incidents__tag_list"]] == ["db", "checkout"]
    # the same incident gets the same root key in every load: the child tables merge on it
    again = Batch()
    again.add_root(tables, INCIDENT, load_id="999.9")
    assert again.rows["incidents"][0]["_dlt_id"] == root_id


def test_an_empty_list_sends_a_tombstone_for_its_table():
    tables = IncidentTables(ENDPOINTS_BY_NAME["incidents"])
    batch = Batch()
    batch.add_root(tables, INCIDENT, load_id="1")
    for table in ("incidents__services", "incidents__milestones"):
        batch.add_tombstones(table)
    root_id = batch.rows["incidents"][0]["_dlt_id"]
    assert batch.rows["incidents__services"] == [{
        "_dlt_id": f"{root_id}.deleted", "_dlt_parent_id": root_id, "_dlt_root_id": root_id,
        "_dlt_list_idx": -1, "_dlt_deleted": True,
    }]
    assert not any(r.get("_dlt_deleted") for r in batch.rows["incidents__milestones"])


def test_declared_types_and_dlt_style_timestamp_detection():
    ((_, started),) = typed_columns("started_at", ["2026-01-01T10:00:00.000Z", None], "timestamp")
    assert started.type == pa.timestamp("us", tz="UTC")
    ((_, undeclared),) = typed_columns("team__created_at", ["2026-01-01T10:00:00Z"], None)
    assert undeclared.type == pa.timestamp("us", tz="UTC")
    ((_, text),) = typed_columns("duration", ["PT1H", "2026-01-01T10:00:00Z"], None)
    assert text.type == pa.string()


def test_a_value_of_another_type_moves_to_a_variant_column():
    columns = dict(typed_columns("number", [1, "INC-2", None], "bigint"))
    assert columns["number"].to_pylist() == [1, None, None]
    assert columns["number"].type == pa.int64()
    assert columns["number__v_text"].to_pylist() == [None, "INC-2", None]
