"""Pacing against the simulator's sliding-window rate limit, over real HTTP.

The simulator answers a refused request with `RateLimit-Limit`, `RateLimit-Policy` and
`Retry-After`. These tests pin what the server saw (which requests it refused, exactly) and
that the pace held (never faster than the limit allows); how close a run stays to that floor
is measured by `make bench` (scenario `ratelimited`), not asserted here, where a busy machine
would make it flaky. The exact counts use 1 s windows so that they stay fast.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest

from incident_assets.incident_api.http import make_session
from incident_assets.incident_api.pacing import RequestPacer
from incident_assets.incident_api.source import IncidentApiConfigError, build_source
from incident_assets.simulator import DEFAULT_TOKEN, Simulator
from incident_assets_tests.conftest import point_project_at
from incident_assets_tests.ingestion import ingest, row_counts

WINDOW = 10.0


def floor_seconds(requests: int, limit: int, window: float = WINDOW) -> float:
    """The least time `requests` sends take under `limit` per sliding `window`."""
    return ((requests - 1) // limit) * window


def get_users(sim: Simulator, pacer: RequestPacer, times: int) -> list[int]:
    session = make_session(max_retries=3, backoff_factor=0.1, timeout=30, pacer=pacer)
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    return [session.get(f"{sim.base_url}/users", headers=headers).status_code for _ in range(times)]


def test_adaptive_pacing_takes_one_429_then_holds_the_servers_pace(caplog):
    with Simulator(incidents=5, rate_limit=True, rate_limit_requests=5, rate_limit_window=WINDOW) as sim:
        started = time.monotonic()
        with caplog.at_level(logging.INFO):
            statuses = get_users(sim, RequestPacer.from_config(None, None), 12)
        elapsed = time.monotonic() - started
        served = [e.status for e in sim.request_log]
    assert statuses == [200] * 12
    # the 6th request reveals the limit; its retry and the rest never hit it again
    assert served == [200] * 5 + [429] + [200] * 7
    assert elapsed >= floor_seconds(12, 5)
    messages = [r.getMessage() for r in caplog.records]
    assert sum("RateLimit-Limit 5" in m and "5 requests per 10 s" in m for m in messages) == 1
    assert sum("HTTP 429 for GET /v1/users, retry 1 in 10.0 s" in m for m in messages) == 1


def test_a_known_limit_draws_exactly_the_429_that_reveals_it():
    # 10 requests per sliding second, 45 requests one after another: the 11th is refused and
    # tells the pace (its window from RateLimit-Policy); none of the 34 after it is refused
    with Simulator(incidents=5, rate_limit=True, rate_limit_requests=10, rate_limit_window=1.0) as sim:
        pacer = RequestPacer.from_config(None, None)
        started = time.monotonic()
        statuses = get_users(sim, pacer, 45)
        elapsed = time.monotonic() - started
        served = [e.status for e in sim.request_log]
    assert statuses == [200] * 45
    assert served == [200] * 10 + [429] + [200] * 35
    assert (pacer.requests, pacer.seconds) == (10, 1.0)
    assert elapsed >= floor_seconds(45, 10, 1.0)


def test_endpoints_sharing_a_fixed_pace_draw_no_429():
    # four threads (endpoints) through one session, 15 requests each, against 10 per second
    with Simulator(incidents=5, rate_limit=True, rate_limit_requests=10, rate_limit_window=1.0) as sim:
        pacer = RequestPacer.from_config(10, 1.0)
        session = make_session(max_retries=0, backoff_factor=0.1, timeout=30, pacer=pacer)
        headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
        statuses: list[int] = []

        def endpoint() -> None:
            for _ in range(15):
                statuses.append(session.get(f"{sim.base_url}/users", headers=headers).status_code)

        threads = [threading.Thread(target=endpoint) for _ in range(4)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        served = [e.status for e in sim.request_log]
    # the server's own view: never an 11th arrival within a second
    assert served == [200] * 60 and statuses == [200] * 60
    assert elapsed >= floor_seconds(60, 10, 1.0)


def test_full_speed_until_the_server_refuses():
    with Simulator(incidents=5) as sim:
        pacer = RequestPacer.from_config(None, None)
        statuses = get_users(sim, pacer, 60)  # more than the API's 50 / 10 s would allow
    assert statuses == [200] * 60
    assert pacer.requests is None  # nothing refused, so no pace adopted: full speed


def test_a_fixed_pace_never_draws_a_429():
    with Simulator(incidents=5, rate_limit=True, rate_limit_requests=5, rate_limit_window=WINDOW) as sim:
        started = time.monotonic()
        statuses = get_users(sim, RequestPacer.from_config(5, WINDOW), 7)
        elapsed = time.monotonic() - started
        served = [e.status for e in sim.request_log]
    assert statuses == served == [200] * 7
    assert elapsed >= floor_seconds(7, 5)


def test_zero_requests_switches_pacing_off():
    pacer = RequestPacer.from_config(0, None)
    with Simulator(incidents=5, rate_limit=True, rate_limit_requests=5, rate_limit_window=WINDOW) as sim:
        session = make_session(max_retries=0, backoff_factor=0.1, timeout=30, pacer=pacer)
        headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
        statuses = [session.get(f"{sim.base_url}/users", headers=headers).status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2  # no retries asked for, no pace learnt
    assert pacer.requests is None


def test_seconds_without_requests_is_a_config_error(monkeypatch):
    monkeypatch.setenv("SOURCES__INCIDENT_API__API_TOKEN", DEFAULT_TOKEN)
    monkeypatch.setenv("SOURCES__INCIDENT_API__RATE_LIMIT_SECONDS", "5")
    monkeypatch.delenv("SOURCES__INCIDENT_API__RATE_LIMIT_REQUESTS", raising=False)
    with pytest.raises(IncidentApiConfigError, match="RATE_LIMIT_REQUESTS"):
        build_source()


def test_a_whole_run_against_a_rate_limited_api_stays_near_the_floor(tmp_path, monkeypatch):
    limit = 20
    with Simulator(incidents=300, seed=7, rate_limit=True, rate_limit_requests=limit,
                   rate_limit_window=WINDOW) as sim:
        point_project_at(monkeypatch, sim, tmp_path / "incidents.duckdb")
        monkeypatch.setenv("SOURCES__INCIDENT_API__PER_PAGE", "50")
        started = time.monotonic()
        ingest()
        elapsed = time.monotonic() - started
        statuses = [e.status for e in sim.request_log]
        incidents = sim.count("incidents")
    refused = statuses.count(429)
    # only the requests in flight when the limit was reached: one per concurrent endpoint thread
    assert 1 <= refused <= 5
    served = len(statuses) - refused
    assert served > 2 * limit  # the run needs pacing
    assert elapsed >= floor_seconds(served, limit)
    assert row_counts(tmp_path / "incidents.duckdb")["incidents"] == incidents
