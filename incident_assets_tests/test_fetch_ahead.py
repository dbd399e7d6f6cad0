"""Every endpoint's pages are fetched off dlt's main thread (`source.fetch_ahead` for the
`rest_api` endpoints, `read_ahead` for the Arrow ones): dlt 1.31 drops `parallelized` for a
resource with an incremental argument, which left change events, retrospectives and the
catalogs to the main thread, one page at a time."""

from __future__ import annotations

import threading
from collections import defaultdict
from urllib.parse import urlsplit

import dlt
import requests

from incident_assets.incident_api.endpoints import ENDPOINTS
from incident_assets.incident_api.source import build_source
from incident_assets_tests.conftest import point_project_at


def test_every_endpoint_is_fetched_in_a_read_ahead_thread(shared_simulator, tmp_path, monkeypatch):
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
    # the incidents' archived-list probe asks for one page of each list first, on the main thread
    paths = {e.path for e in ENDPOINTS if e.name != "incidents"}
    assert {path: sorted({name.split("_")[0] for name in threads[path]}) for path in paths} == {
        path: ["incident-api-read-ahead"] for path in paths
    }
    assert "incident-api-read-ahead" in {name.split("_")[0] for name in threads["incidents"]}
