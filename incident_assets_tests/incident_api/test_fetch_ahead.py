"""The Arrow endpoints' pages are read and built into batches ahead, in a thread of their own
(`http.read_ahead`), so that waiting for the server overlaps writing the batch before. The
catalogs (a page each) are left to dlt, which fetches a `rest_api` resource on its main thread."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from urllib.parse import urlsplit

import dlt
import pytest
import requests

from incident_assets.incident_api.endpoints import ENDPOINTS
from incident_assets.incident_api.http import read_ahead
from incident_assets.incident_api.source import build_source
from incident_assets_tests.conftest import point_project_at


def test_the_arrow_endpoints_are_fetched_in_a_read_ahead_thread(shared_simulator, tmp_path, monkeypatch):
    point_project_at(monkeypatch, shared_simulator, tmp_path / "fetch.duckdb")
    threads: dict[str, set[str]] = defaultdict(set)
    send = requests.Session.send

    def noting_send(session, request, **kwargs):  # the real send, its thread noted per path
        threads[urlsplit(request.url).path.rsplit("/v1/", 1)[1]].add(threading.current_thread().name)
        return send(session, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", noting_send)
    pipeline = dlt.pipeline("fetch_ahead_test", destination="duckdb", pipelines_dir=str(tmp_path / "dlt"),
                            dataset_name="raw")
    pipeline.extract(build_source(full_refresh=True))
    kinds = {path: sorted({name.split("_")[0] for name in names}) for path, names in threads.items()}
    # the incidents' archived-list probe asks for one page of each list first, on the main thread
    assert kinds.pop("incidents") == ["MainThread", "incident-api-read-ahead"]
    assert kinds == {e.path: ["incident-api-read-ahead" if e.arrow else "MainThread"]
                     for e in ENDPOINTS if e.name != "incidents"}


def test_read_ahead_makes_items_up_to_its_depth_ahead_in_order_and_stops_when_closed():
    made: list[int] = []
    ready = threading.Event()

    def items():
        for n in range(10):
            made.append(n)
            if len(made) == 3:
                ready.set()
            yield n

    ahead = read_ahead(items(), 2)
    assert next(ahead) == 0
    assert ready.wait(5)  # item 0 taken, 1 and 2 made while the caller works on it
    assert made == [0, 1, 2]
    assert next(ahead) == 1
    ahead.close()  # the thread stops: item 3 (asked for when 1 was taken) at most
    assert made in ([0, 1, 2], [0, 1, 2, 3])
    after_close = len(made)
    time.sleep(0.3)
    assert len(made) == after_close


def test_read_ahead_raises_an_error_in_its_place():
    def items():
        yield 1
        yield 2
        raise ValueError("page 3 broke")

    ahead = read_ahead(items(), 3)
    assert [next(ahead), next(ahead)] == [1, 2]
    with pytest.raises(ValueError, match="page 3 broke"):
        next(ahead)
