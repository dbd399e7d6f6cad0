"""A load runs with fewer passes of Python's garbage collector (`gc_passes.fewer_gc_passes`):
the youngest generation collected every 50,000 new containers while the ingestion asset runs,
the process's own thresholds back afterwards, whatever happened."""

from __future__ import annotations

import gc

import pytest

from incident_assets.incident_api import pages
from incident_assets.incident_api.gc_passes import LOAD_GC_THRESHOLD, fewer_gc_passes
from incident_assets_tests.ingestion import ingest


@pytest.fixture
def thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_thresholds_are_raised_inside_and_restored_after_even_on_error(thresholds):
    with fewer_gc_passes():
        assert gc.get_threshold() == (50_000, 10, 10) and LOAD_GC_THRESHOLD == 50_000
    assert gc.get_threshold() == (700, 10, 10)
    with pytest.raises(RuntimeError):
        with fewer_gc_passes():
            raise RuntimeError("a failed load")
    assert gc.get_threshold() == (700, 10, 10)


def test_a_process_that_collects_even_less_often_keeps_its_setting(thresholds):
    gc.set_threshold(100_000, 5, 5)
    with fewer_gc_passes():
        assert gc.get_threshold() == (100_000, 5, 5)
    assert gc.get_threshold() == (100_000, 5, 5)


def test_the_ingestion_asset_parses_pages_under_the_load_threshold(project, duckdb_path, thresholds, monkeypatch):
    seen: list[tuple[int, int, int]] = []
    parse = pages.parse_page

    def noting_parse(content: bytes):
        seen.append(gc.get_threshold())
        return parse(content)

    monkeypatch.setattr(pages, "parse_page", noting_parse)
    ingest(["incident_api/incidents", "incident_api/alerts"])
    assert len(seen) >= 2 and set(seen) == {(50_000, 10, 10)}
    assert gc.get_threshold() == (700, 10, 10)
