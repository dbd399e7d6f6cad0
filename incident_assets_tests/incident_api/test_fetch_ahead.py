"""The Arrow endpoints' pages are fetched one ahead in a thread of their own (`http.read_ahead`),
so that waiting for the server overlaps turning pages into rows. The catalogs (a page each) are
left to dlt, which fetches a `rest_api` resource on its main thread."""

from __future__ import annotations

import threading
from collections import defaultdict
from urllib.parse import urlsplit

import dlt
import requests

from incident_assets.incident_api.endpoints import ENDPOINTS
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
