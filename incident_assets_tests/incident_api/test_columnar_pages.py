"""Every page of an Arrow endpoint is parsed once, on every path (vectorized or row by row), and
a page that goes row by row is said once per endpoint, with the reason: a real load through
the project's source, over HTTP from the simulator, into a DuckDB file."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from pathlib import Path

import dlt
import duckdb
import orjson
import pytest

from incident_assets.incident_api.endpoints import ENDPOINTS
from incident_assets.incident_api.source import build_source
from incident_assets.simulator import DEFAULT_TOKEN, Simulator

ARROW_ENDPOINTS = [e.name for e in ENDPOINTS if e.arrow]
ROW_BY_ROW = "took the row-by-row path"


def load(sim: Simulator, db: Path, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Loads the Arrow endpoints; returns how often each page body was parsed into Python."""
    parsed: Counter[str] = Counter()
    loads = orjson.loads

    def counting_loads(data, *args, **kwargs):
        if isinstance(data, (bytes, bytearray, memoryview)) and bytes(data[:8]) == b'{"data":':
            parsed[hashlib.sha1(bytes(data)).hexdigest()] += 1
        return loads(data, *args, **kwargs)

    # orjson parses every body in the project and in dlt: count the parses of page bodies
    monkeypatch.setattr(orjson, "loads", counting_loads)
    source = build_source(base_url=sim.base_url, api_token=DEFAULT_TOKEN).with_resources(*ARROW_ENDPOINTS)
    pipeline = dlt.pipeline("pages", destination=dlt.destinations.duckdb(str(db)), dataset_name="incident_api",
                            pipelines_dir=str(db.parent / "pipelines"))
    pipeline.run(source, loader_file_format="parquet")
    return parsed


def page_requests(sim: Simulator) -> int:
    paths = {sim.path(name) for name in ARROW_ENDPOINTS}
    return sum(1 for entry in sim.request_log if entry.path in paths and entry.status == 200)


@pytest.mark.parametrize("messy", [False, True], ids=["tidy", "messy"])
def test_each_page_is_parsed_once_and_row_by_row_pages_are_said_once(tmp_path, monkeypatch, caplog, messy):
    with Simulator(incidents=700, seed=3, messy=messy) as sim:
        if messy:
            # two incidents declared from something that is not an object: those pages go row by row
            for incident in (sim.records("incidents")[5], sim.records("incidents")[-5]):
                sim.set_fields("incidents", incident["id"], context_object="declared from Slack")
        caplog.set_level(logging.WARNING)
        parsed = load(sim, tmp_path / "pages.duckdb", monkeypatch)
        expected_rows = {name: sim.count(name) for name in ARROW_ENDPOINTS}
        pages = page_requests(sim)
    assert pages >= 2 * len(ARROW_ENDPOINTS)  # more than one page each
    assert sum(parsed.values()) == len(parsed) == pages  # each page once, none twice
    with duckdb.connect(str(tmp_path / "pages.duckdb"), read_only=True) as con:
        assert {name: con.execute(f"select count(*) from incident_api.{name}").fetchone()[0]
                for name in ARROW_ENDPOINTS} == expected_rows
    said = [r.getMessage() for r in caplog.records if ROW_BY_ROW in r.getMessage()]
    if not messy:
        assert said == []
    else:
        # said once, for two pages
        assert [m.split(":")[0] for m in said] == ["incidents"]
