"""The bundled API simulator over real HTTP: pagination, auth, filters, determinism, rate limit,
faults, request log, CLI and conformance to FireHydrant's OpenAPI file."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import pytest
import requests
import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from incident_assets.simulator import DEFAULT_TOKEN, RESOURCES, FaultConfig, Simulator

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# FireHydrant's public OpenAPI file (firehydrant/firehydrant-typescript-sdk:openapi.yaml),
# kept unchanged in docs/
OPENAPI = PROJECT_ROOT / "docs" / "firehydrant-openapi.yaml"
AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


@pytest.fixture
def sim(shared_simulator: Simulator) -> Simulator:
    """Read-only: tests using it never mutate it."""
    return shared_simulator


@pytest.fixture
def fresh() -> Iterator[Simulator]:
    """A small simulator of the test's own, free to mutate or misbehave."""
    with Simulator(incidents=60, seed=3) as s:
        yield s


def get(sim: Simulator, path: str, headers: dict | None = AUTH, **params) -> requests.Response:
    return requests.get(sim.base_url + path, headers=headers, params=params, timeout=10)


def iso_now() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------- pagination

def test_pages_cover_every_record_once_with_exact_pagination(sim: Simulator) -> None:
    expected = [r["id"] for r in sim.records("incidents")]
    count, per_page = len(expected), 70
    pages = math.ceil(count / per_page)
    seen = []
    for page in range(1, pages + 1):
        body = get(sim, "/incidents", per_page=per_page, page=page, archived="true").json()
        items = min(per_page, count - (page - 1) * per_page)
        assert body["pagination"] == {"count": count, "page": page, "items": items, "pages": pages,
                                      "last": pages, "prev": page - 1 if page > 1 else None,
                                      "next": page + 1 if page < pages else None}
        seen += [r["id"] for r in body["data"]]
    assert seen == expected
    assert len(set(seen)) == count == 300


def test_beyond_last_page_and_empty_list(sim: Simulator) -> None:
    count = sim.count("services")
    body = get(sim, "/services", per_page=20, page=9).json()
    assert body["data"] == []
    assert body["pagination"] == {"count": count, "page": 9, "items": 0, "pages": 2, "last": 2,
                                  "prev": 2, "next": None}
    # no records: one (empty) page, as FireHydrant's pagy reports it
    body = get(sim, "/incidents", updated_after="2100-01-01T00:00:00Z").json()
    assert body == {"data": [], "pagination": {"count": 0, "page": 1, "items": 0, "pages": 1,
                                               "last": 1, "prev": None, "next": None}}


def test_per_page_default_and_clamping(sim: Simulator) -> None:
    assert sim.count("change_events") > 200
    default = get(sim, "/changes/events").json()
    assert len(default["data"]) == 20 and default["pagination"]["items"] == 20
    assert len(get(sim, "/changes/events", per_page=500).json()["data"]) == 200
    zero = get(sim, "/changes/events", per_page=0).json()
    assert len(zero["data"]) == 1 and zero["pagination"]["pages"] == sim.count("change_events")
    bad = get(sim, "/changes/events", per_page="many")
    assert bad.status_code == 400 and "error" in bad.json()


# ---------------------------------------------------------------- auth and routing

def test_auth_bearer_bare_wrong_missing(sim: Simulator) -> None:
    assert get(sim, "/ping").json()["response"] == "pong"
    assert get(sim, "/ping", headers={"Authorization": DEFAULT_TOKEN}).status_code == 200
    for headers in ({"Authorization": "Bearer fhb-wrong"}, {"Authorization": "Basic abc"}, None):
        r = get(sim, "/incidents", headers=headers)
        assert r.status_code == 401 and r.json() == {"error": "unauthorized"}
    r = get(sim, "/noauth/ping", headers=None)
    assert r.status_code == 200 and r.json() == {"response": "pong"}


def test_not_found(sim: Simulator) -> None:
    for path in ("/incidents/00000000-0000-4000-8000-000000000000", "/severities/SEV9", "/nope"):
        r = get(sim, path)
        assert r.status_code == 404 and r.json() == {"error": "not found"}
    inc = sim.records("incidents")[5]
    assert get(sim, f"/incidents/{inc['id']}").json() == inc
    assert get(sim, "/severities/SEV1").json()["slug"] == "SEV1"


# ---------------------------------------------------------------- determinism

SAMPLES = [("/incidents", {"per_page": 200, "page": 2}), ("/changes/events", {"per_page": 50}),
           ("/post_mortems/reports", {}), ("/services", {"per_page": 200}), ("/teams", {}),
           ("/incidents", {"archived": "true", "per_page": 7, "page": 13}),
           ("/ticketing/tickets", {"per_page": 50}), ("/alerts", {"per_page": 200, "page": 3}),
           ("/scheduled_maintenances", {})]


def test_same_seed_same_bytes_other_seed_differs(sim: Simulator) -> None:
    with Simulator(incidents=300, seed=7) as twin, Simulator(incidents=300, seed=8) as other:
        for path, params in SAMPLES:
            body = get(sim, path, **params).content
            assert body == get(twin, path, **params).content, path
            assert body != get(other, path, **params).content, path


# ---------------------------------------------------------------- filters and mutations

def test_updated_after_sees_exactly_the_mutated_incidents(fresh: Simulator) -> None:
    recs = fresh.records("incidents")
    open_one = next(r for r in recs if r["active"] and r["discarded_at"] is None)
    edited = next(r for r in recs if r["id"] != open_one["id"] and r["discarded_at"] is None)
    before = get(fresh, "/incidents", per_page=200).json()["data"]
    time.sleep(0.01)
    since = iso_now()
    time.sleep(0.01)
    fresh.resolve_incident(open_one["id"])
    fresh.edit_milestone(edited["id"], "started", edited["started_at"])  # same time: still a change
    added = fresh.add_incident()
    changed = get(fresh, "/incidents", updated_after=since, per_page=200).json()["data"]
    assert sorted(r["id"] for r in changed) == sorted([open_one["id"], edited["id"], added["id"]])
    resolved = next(r for r in changed if r["id"] == open_one["id"])
    assert resolved["current_milestone"] == "resolved" and resolved["active"] is False
    assert added["number"] == max(r["number"] for r in recs) + 1 and added["active"] is True
    older = get(fresh, "/incidents", updated_before=since, per_page=200).json()["data"]
    assert {r["id"] for r in older} == {r["id"] for r in before} - {open_one["id"], edited["id"]}


def test_archived_left_out_unless_asked(sim: Simulator) -> None:
    everything = sim.records("incidents")
    archived = {r["id"] for r in everything if r["discarded_at"] is not None}
    assert archived
    default = get(sim, "/incidents", per_page=200, page=1).json()
    ids = [r["id"] for r in default["data"]] + [
        r["id"] for r in get(sim, "/incidents", per_page=200, page=2).json()["data"]]
    assert default["pagination"]["count"] == len(everything) - len(archived)
    assert set(ids) == {r["id"] for r in everything} - archived
    assert get(sim, "/incidents", archived="true").json()["pagination"]["count"] == len(everything)


def test_retrospective_change_event_and_incident_filters(sim: Simulator) -> None:
    retros = sim.records("retrospectives")
    cut = sorted(r["updated_at"] for r in retros)[len(retros) // 2]
    got = get(sim, "/post_mortems/reports", updated_since=cut, per_page=200).json()["data"]
    assert [r["id"] for r in got] == [r["id"] for r in retros if r["updated_at"] >= cut]
    one = get(sim, "/post_mortems/reports", incident_id=retros[0]["incident_id"]).json()["data"]
    assert [r["id"] for r in one] == [retros[0]["id"]]

    events = sim.records("change_events")
    cut = sorted(e["starts_at"] for e in events)[200]
    got = get(sim, "/changes/events", starts_at=cut, per_page=200).json()["data"]
    assert [e["id"] for e in got] == [e["id"] for e in events if e["starts_at"] >= cut]

    incidents = sim.records("incidents")
    got = get(sim, "/incidents", severities="SEV1,SEV2", per_page=200).json()["data"]
    assert [r["id"] for r in got] == [r["id"] for r in incidents if r["severity"] in ("SEV1", "SEV2")
                                      and r["discarded_at"] is None]
    got = get(sim, "/incidents", current_milestones="closed,mitigated", per_page=200).json()["data"]
    assert got and [r["id"] for r in got] == [r["id"] for r in incidents if r["discarded_at"] is None
                                              and r["current_milestone"] in ("closed", "mitigated")]

    for path, name in (("/incidents", "updated_after"), ("/post_mortems/reports", "updated_since"),
                       ("/changes/events", "starts_at")):
        r = get(sim, path, **{name: "yesterday"})
        assert r.status_code == 400 and "error" in r.json()


def test_delete_record_leaves_list_and_404s(fresh: Simulator) -> None:
    svc = fresh.records("services")[3]
    fresh.delete_record("services", svc["id"])
    assert get(fresh, f"/services/{svc['id']}").status_code == 404
    listed = get(fresh, "/services", per_page=200).json()
    assert svc["id"] not in {s["id"] for s in listed["data"]} and listed["pagination"]["count"] == 29
    fresh.delete_record("severities", "SEV5")
    assert get(fresh, "/severities/SEV5").status_code == 404


# ---------------------------------------------------------------- rate limit and faults

def test_rate_limit_sliding_window() -> None:
    with Simulator(incidents=5, rate_limit=True, rate_limit_requests=5, rate_limit_window=1.0) as s:
        statuses = [get(s, "/users").status_code for _ in range(5)]
        over = get(s, "/users")
        assert statuses == [200] * 5 and over.status_code == 429
        assert over.json() == {"error": "rate limit exceeded"}
        assert over.headers["RateLimit-Limit"] == "5" and over.headers["Retry-After"] == "1"
        assert not [h for h in over.headers if h.lower().startswith("x-ratelimit")]
        time.sleep(1.05)
        assert get(s, "/users").status_code == 200
        s.set_rate_limit(False)
        assert all(get(s, "/users").status_code == 200 for _ in range(8))


def test_fault_bursts(fresh: Simulator) -> None:
    fresh.set_faults(FaultConfig(burst_429=2, burst_5xx=1))
    got = [get(fresh, "/teams") for _ in range(4)]
    assert [r.status_code for r in got] == [429, 429, 503, 200]
    assert got[0].headers["Retry-After"] == "1" and got[2].json()["error"]
    assert get(fresh, "/ping").status_code == 200  # faults hit list requests only
    fresh.set_faults(FaultConfig(every=3, burst_5xx=1))
    assert [get(fresh, "/teams").status_code for _ in range(7)] == [200, 200, 503, 200, 200, 503, 200]


def test_fault_slow_and_truncate(fresh: Simulator) -> None:
    fresh.set_faults(FaultConfig(slow_seconds=0.3, slow_requests=1, truncate=1))
    t0 = time.monotonic()
    cut = get(fresh, "/users")
    assert time.monotonic() - t0 >= 0.3
    assert cut.status_code == 200 and int(cut.headers["Content-Length"]) == len(cut.content)
    with pytest.raises(ValueError):
        cut.json()
    t0 = time.monotonic()
    assert get(fresh, "/users").json()["data"] and time.monotonic() - t0 < 0.3


def test_fault_paths(fresh: Simulator) -> None:
    fresh.set_faults(FaultConfig(non_json_path="/v1/users", no_data_path="teams",
                                 data_not_list_path="/v1/services", stuck_cursor_path="incidents"))
    html = get(fresh, "/users")
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
    assert "data" not in get(fresh, "/teams").json()
    assert isinstance(get(fresh, "/services").json()["data"], dict)
    assert [get(fresh, "/incidents", per_page=5, page=p).json()["pagination"]["next"]
            for p in (1, 2, 3)] == [2, 2, 3]
    assert get(fresh, "/environments").json()["pagination"]["next"] is None  # others unaffected
    fresh.set_faults(None)
    assert isinstance(get(fresh, "/users").json()["data"], list)


# ---------------------------------------------------------------- request log

def test_request_log_records_requests_never_the_token(fresh: Simulator) -> None:
    fresh.clear_log()
    get(fresh, "/incidents", per_page=3, page=2)
    get(fresh, "/incidents", headers={"Authorization": DEFAULT_TOKEN})
    get(fresh, "/users", headers={"Authorization": "Bearer nope"}, token=DEFAULT_TOKEN)
    get(fresh, f"/{DEFAULT_TOKEN}")
    log = fresh.request_log
    assert [(e.method, e.path, e.status, e.authorized) for e in log[:3]] == [
        ("GET", "/v1/incidents", 200, True), ("GET", "/v1/incidents", 200, True),
        ("GET", "/v1/users", 401, False)]
    assert log[0].query == {"per_page": "3", "page": "2"}
    assert abs(log[0].time - time.time()) < 10 and len(log) == 4
    assert DEFAULT_TOKEN not in repr(log)


# ---------------------------------------------------------------- CLI

def test_cli_prints_base_url_and_stops_on_sigterm(tmp_path: Path) -> None:
    log_file = tmp_path / "requests.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "incident_assets.simulator", "--port", "0", "--incidents", "30",
         "--seed", "7", "--token", "fhb-cli-secret", "--request-log", str(log_file)],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("http://127.0.0.1:") and line.endswith("/v1")
        r = requests.get(line + "/incidents", headers={"Authorization": "Bearer fhb-cli-secret"}, timeout=5)
        assert r.status_code == 200 and r.json()["pagination"]["count"] > 0
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    entries = [json.loads(x) for x in log_file.read_text().splitlines()]
    assert [(e["path"], e["status"], e["authorized"]) for e in entries] == [("/v1/incidents", 200, True)]
    assert "fhb-cli-secret" not in log_file.read_text() + proc.stdout.read() + proc.stderr.read()


# ---------------------------------------------------------------- OpenAPI conformance

LIST_PATHS = {"environments": "/v1/environments", "services": "/v1/services",
              "functionalities": "/v1/functionalities", "teams": "/v1/teams",
              "webhooks": "/v1/webhooks", "incidents": "/v1/incidents",
              "severities": "/v1/severities", "priorities": "/v1/priorities", "users": "/v1/users",
              "incident_roles": "/v1/incident_roles", "change_events": "/v1/changes/events",
              "retrospectives": "/v1/post_mortems/reports", "tickets": "/v1/ticketing/tickets",
              "alerts": "/v1/alerts", "scheduled_maintenances": "/v1/scheduled_maintenances"}
ITEM_PATHS = {"environments": "/v1/environments/{environment_id}",
              "services": "/v1/services/{service_id}",
              "functionalities": "/v1/functionalities/{functionality_id}",
              "teams": "/v1/teams/{team_id}", "webhooks": "/v1/webhooks/{webhook_id}",
              "incidents": "/v1/incidents/{incident_id}",
              "severities": "/v1/severities/{severity_slug}",
              "priorities": "/v1/priorities/{priority_slug}", "users": "/v1/users/{id}",
              "incident_roles": "/v1/incident_roles/{incident_role_id}",
              "change_events": "/v1/changes/events/{change_event_id}",
              "retrospectives": "/v1/post_mortems/reports/{report_id}",
              "tickets": "/v1/ticketing/tickets/{ticket_id}", "alerts": "/v1/alerts/{alert_id}",
              "scheduled_maintenances": "/v1/scheduled_maintenances/{scheduled_maintenance_id}"}

# The OpenAPI file's known defects: live data (and every public connector) disagrees with it. Anything not
# listed here fails the test. "null": declared non-nullable, null in live data (the newer copy
# marks every field nullable); "list": declared a string/object, a list in live data.
ENVELOPE_DECLARED_AS_ITEM = {"webhooks", "priorities", "tickets", "scheduled_maintenances"}
KNOWN_DEFECTS = {
    "environments": {"active_incidents": "list"},
    "services": {"owner": "null", "icon_url": "null"},
    "functionalities": {},
    "teams": {"default_incident_role": "null", "discarded_at": "null"},  # membership's role
    "webhooks": {"subscriptions": "list"},
    "incidents": {"customer_impact_summary": "null", "severity": "null", "severity_color": "null",
                  "priority": "null", "discarded_at": "null", "report_id": "null",
                  "duration": "null"},  # a milestone's duration is null while it is current
    "severities": {},
    "priorities": {},
    "users": {},
    "incident_roles": {"discarded_at": "null"},
    "change_events": {"active_incidents": "list"},  # embedded environments
    "retrospectives": {"questions": "list"},  # declared one QuestionEntity; a list of them
    # a follow-up of no incident, no task, no due date or no priority
    "tickets": {"incident_id": "null", "incident_name": "null", "incident_current_milestone": "null",
                "task_id": "null", "due_at": "null", "priority": "null"},
    # alerts of other integrations than Signals, routed to no team
    "alerts": {"signal_id": "null", "team_id": "null", "team_name": "null"},
    # a window still open; no incident declared for it
    "scheduled_maintenances": {"ends_at": "null", "incident": "null"},
}


@lru_cache(maxsize=1)
def openapi() -> dict:
    return yaml.safe_load(OPENAPI.read_text())


def schema_of(path: str) -> dict:
    doc = openapi()
    ref = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return {**ref, "components": doc["components"]}  # '#/components/...' resolves in this root


def deviations(schema: dict, instance) -> set[tuple[str, str]]:
    """(field, kind) of every validation error; kinds other than null/list are reported raw."""
    found = set()
    validator = OAS30Validator(schema, format_checker=oas30_format_checker)
    for err in validator.iter_errors(instance):
        names = [p for p in err.absolute_path if isinstance(p, str)]
        field = names[-1] if names else "<root>"
        if err.instance is None and err.validator == "type":
            found.add((field, "null"))
        elif isinstance(err.instance, list) and err.validator == "type" and err.validator_value != "array":
            found.add((field, "list"))
        else:
            found.add((field, f"{err.validator}: {err.message[:120]}"))
    return found


@pytest.mark.parametrize("resource", RESOURCES)
def test_openapi_conformance(sim: Simulator, resource: str) -> None:
    allowed = set(KNOWN_DEFECTS[resource].items())
    body = get(sim, LIST_PATHS[resource][3:], per_page=200).json()
    if resource in ENVELOPE_DECLARED_AS_ITEM:
        item_schema = schema_of(LIST_PATHS[resource])
        page_schema = {"$ref": "#/components/schemas/PaginationEntity", "components": openapi()["components"]}
        found = deviations(page_schema, body["pagination"])
        for item in body["data"]:
            found |= deviations(item_schema, item)
    else:
        found = deviations(schema_of(LIST_PATHS[resource]), body)
    assert body["data"] and found <= allowed, found - allowed
    records = sim.records(resource)
    key = "slug" if resource in ("severities", "priorities") else "id"
    one = get(sim, LIST_PATHS[resource][3:] + "/" + records[-1][key]).json()
    assert one == records[-1]
    assert deviations(schema_of(ITEM_PATHS[resource]), one) <= allowed


def test_conformance_check_catches_a_deviation(sim: Simulator) -> None:
    incident = sim.records("incidents")[0]
    planted = {**incident, "number": str(incident["number"]), "started_at": "yesterday"}
    found = deviations(schema_of(ITEM_PATHS["incidents"]), planted)
    assert {f for f, _ in found} >= {"number", "started_at"}
    assert not {(f, k) for f, k in found if f in ("number", "started_at")} & set(KNOWN_DEFECTS["incidents"].items())


# ---------------------------------------------------------------- the demo data looks real

# How much of an outage each impact condition is (status-page style): by name, else by position
CONDITION_WEIGHTS = {"unavailable": 1.0, "partially unavailable": 0.3, "degraded": 0.0, "bug": 0.0,
                     "operational": 0.0}
POSITION_WEIGHTS = {0: 1.0, 1: 0.3}
NOT_REPORTABLE = {"GAMEDAY", "MAINTENANCE"}
ANCHOR = datetime(2026, 11, 1, tzinfo=timezone.utc)
STALE_AFTER = 30 * 86400


def seconds(stamp: str | None) -> float | None:
    return None if stamp is None else datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def lifecycle(incident: dict) -> tuple[float, float | None, float | None]:
    """(started, mitigated, resolved) in epoch seconds, as the reports read the milestones."""
    times: dict[str, list[float]] = {}
    for m in incident["milestones"]:
        times.setdefault(m["type"], []).append(seconds(m["occurred_at"]))
    started = min(times["started"]) if "started" in times else seconds(incident["started_at"] or incident["created_at"])
    mitigated = min(times["mitigated"]) if "mitigated" in times else None
    if "resolved" in times:
        resolved = max(times["resolved"])
    else:
        after = [t for kind in ("postmortem_started", "postmortem_completed", "closed") for t in times.get(kind, [])]
        resolved = min(after) if after else None
    return started, mitigated, resolved


def condition_weight(condition: dict) -> float:
    name = condition["name"].strip().lower()
    return CONDITION_WEIGHTS[name] if name in CONDITION_WEIGHTS else POSITION_WEIGHTS.get(condition["position"], 0.0)


def impact_intervals(incidents: list[dict], as_of: float) -> dict[str, list[tuple[float, float, float]]]:
    """service id -> [(start, end, weight)] of the reportable incidents listing it."""
    out: dict[str, list[tuple[float, float, float]]] = {}
    for inc in incidents:
        if inc["discarded_at"] is not None or inc["severity"] in NOT_REPORTABLE:
            continue
        started, mitigated, resolved = lifecycle(inc)
        end = next((t for t in (mitigated, resolved) if t is not None), as_of)
        if end <= started:
            continue
        for service in inc["services"]:
            weights = [condition_weight(i["condition"]) for i in inc["impacts"]
                       if i["type"] == "service" and i["impact"]["id"] == service["id"]]
            out.setdefault(service["id"], []).append((started, end, max(weights, default=1.0)))
    return out


def month_starts(first: datetime, last: datetime) -> list[datetime]:
    months, m = [], first.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while m <= last:
        months.append(m)
        m = m.replace(year=m.year + m.month // 12, month=m.month % 12 + 1)
    return months


def union_minutes_by_month(intervals: list[tuple[float, float]], months: list[datetime]) -> dict[datetime, float]:
    bounds = [m.timestamp() for m in months] + [months[-1].replace(
        year=months[-1].year + months[-1].month // 12, month=months[-1].month % 12 + 1).timestamp()]
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out = dict.fromkeys(months, 0.0)
    for start, end in merged:
        for k, month in enumerate(months):
            overlap = min(end, bounds[k + 1]) - max(start, bounds[k])
            if overlap > 0:
                out[month] += overlap / 60
    return out


def availability_by_service_month(incidents: list[dict], service_ids: list[str],
                                  as_of: datetime = ANCHOR) -> dict[tuple[str, datetime], float]:
    """availability_pct of every catalog service in every complete month, from the first month
    with a reportable incident: the highest weight at each instant, overlaps counted once
    (maintenance windows are not taken out, so this errs on the low side)."""
    intervals = impact_intervals(incidents, as_of.timestamp())
    first = min(datetime.fromtimestamp(s, timezone.utc) for spans in intervals.values() for s, _, _ in spans)
    months = month_starts(first, as_of - timedelta(days=1))
    month_minutes = {m: (n - m).total_seconds() / 60 for m, n in zip(months, months[1:] + [as_of])}
    result = {}
    for service in service_ids:
        spans = intervals.get(service, [])
        weighted = dict.fromkeys(months, 0.0)
        below = 0.0
        for w in sorted({w for _, _, w in spans} - {0.0}):  # sum of (w_k - w_k-1) * union(>= w_k)
            union = union_minutes_by_month([(s, e) for s, e, x in spans if x >= w], months)
            for m in months:
                weighted[m] += (w - below) * union[m]
            below = w
        for m in months:
            result[(service, m)] = 100 * (1 - weighted[m] / month_minutes[m])
    return result


@pytest.fixture(scope="module")
def demo() -> Simulator:
    """The demo's dataset (not served: only its records are read)."""
    return Simulator(incidents=2000, seed=7)


def headline(demo: Simulator) -> dict:
    incidents = demo.records("incidents")
    open_ = [i for i in incidents if lifecycle(i)[2] is None]
    stale = [i for i in open_ if ANCHOR.timestamp() - lifecycle(i)[0] > STALE_AFTER]
    availability = availability_by_service_month(incidents, [s["id"] for s in demo.records("services")])
    return {"open": len(open_), "open_share": len(open_) / len(incidents), "stale": len(stale),
            "above_99_5": sum(a > 99.5 for a in availability.values()) / len(availability),
            "below_99": sum(a < 99 for a in availability.values()), "worst": min(availability.values())}


def test_demo_data_has_realistic_open_incidents_and_availability(demo: Simulator) -> None:
    numbers = headline(demo)
    assert numbers["open_share"] < 0.03, numbers
    assert 1 <= numbers["stale"] <= 10, numbers
    assert numbers["stale"] < numbers["open"] / 2 + 1, numbers  # most open incidents are recent
    assert numbers["above_99_5"] >= 0.85, numbers
    assert numbers["below_99"] >= 1 and numbers["worst"] > 90, numbers


def service_conditions(incident: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for impact in incident["impacts"]:
        if impact["type"] == "service":
            found.setdefault(impact["impact"]["id"], []).append(impact["condition"])
    return found


def test_impact_conditions_fit_the_severity_and_the_quirks_stay_rare(demo: Simulator) -> None:
    incidents = demo.records("incidents")
    worst: dict[str | None, list[str]] = {}  # severity -> each incident's worst condition
    for inc in incidents:
        conditions = [c for cs in service_conditions(inc).values() for c in cs]
        if conditions:
            worst.setdefault(inc["severity"], []).append(min(conditions, key=lambda c: c["position"])["name"])
    outage = {"Major Outage", "Unavailable", "Partially Unavailable"}
    for sev in ("SEV1", "SEV2"):
        names = worst[sev]
        assert sum(n in outage for n in names) / len(names) >= 0.7, sev
    for sev in ("SEV4", "SEV5"):
        names = worst[sev]
        assert sum(n in ("Degraded", "Bug", "Operational") for n in names) / len(names) >= 0.95, sev
    assert len(set(worst["SEV3"])) >= 4  # SEV3 is mixed
    # the organisation's own condition is known only by its position
    custom = {(i["condition"]["name"], i["condition"]["position"]) for inc in incidents for i in inc["impacts"]}
    assert ("Major Outage", 0) in custom and ("Unavailable", 1) in custom

    def share(predicate) -> float:
        return sum(1 for i in incidents if predicate(i)) / len(incidents)

    types = lambda i: [m["type"] for m in i["milestones"]]  # noqa: E731
    known = {s["id"] for s in demo.records("services")}
    differing = share(lambda i: len({c[0]["name"] for c in service_conditions(i).values()}) > 1)
    missing_entry = share(lambda i: any(s["id"] not in service_conditions(i) for s in i["services"]))
    assert 0.02 < differing < 0.3 and 0 < missing_entry < 0.02
    assert 0 < share(lambda i: types(i).count("resolved") > 1) < 0.05  # reopened
    assert 0.3 < share(lambda i: "detected" not in types(i)) < 0.6
    assert 0 < share(lambda i: i["discarded_at"] is not None) < 0.03  # archived
    assert 0 < share(lambda i: any(s["id"] not in known for s in i["services"])) < 0.01  # ghosts
    out_of_order = share(lambda i: any(
        LIFECYCLE_ORDER.index(a["type"]) > LIFECYCLE_ORDER.index(b["type"])
        for a, b in zip(i["milestones"], i["milestones"][1:])
        if a["type"] in LIFECYCLE_ORDER and b["type"] in LIFECYCLE_ORDER))
    assert 0 < out_of_order < 0.05


LIFECYCLE_ORDER = ["started", "detected", "acknowledged", "investigating", "identified", "mitigated",
                   "resolved", "postmortem_started", "postmortem_completed", "closed"]


def test_followups_belong_to_their_incidents(demo: Simulator) -> None:
    incidents = {i["id"]: i for i in demo.records("incidents")}
    tickets = demo.records("tickets")
    followups = [t for t in tickets if t["type"] == "follow_up"]
    states = {s: sum(t["state"] == s for t in followups) / len(followups)
              for s in ("done", "open", "in_progress", "cancelled")}
    assert states["done"] > 0.5 and all(share > 0.02 for share in states.values()), states
    anchor = "2026-11-01T00:00:00.000Z"
    overdue = [t for t in followups if t["state"] in ("open", "in_progress") and (t["due_at"] or "9") < anchor]
    assert overdue and any(t["due_at"] is None for t in followups)
    assert any(t["due_at"] and t["due_at"] > anchor for t in followups)  # due in the future
    orphans = [t for t in followups if t["incident_id"] not in incidents]
    assert any(t["incident_id"] is None for t in orphans) and any(t["incident_id"] for t in orphans)
    assert len(orphans) < len(followups) * 0.05
    for t in followups:
        assert t["created_at"] <= t["updated_at"] <= anchor, t["id"]
        inc = incidents.get(t["incident_id"])
        if inc is not None:
            assert t["created_at"] > inc["started_at"] and t["incident_name"] == inc["name"], t["id"]


def test_alerts_page_before_their_incidents_and_make_noise(demo: Simulator) -> None:
    incidents = {i["id"]: i for i in demo.records("incidents")}
    alerts = demo.records("alerts")
    linked = [a for a in alerts if a["incidents"]]
    assert 0.1 < len(linked) / len(alerts) < 0.6  # most alerts never become incidents
    for a in linked:
        (ref,) = a["incidents"]
        inc = incidents[ref["id"]]
        assert ref == {"id": inc["id"], "name": inc["name"], "number": str(inc["number"])}
        lead = seconds(inc["started_at"]) - seconds(a["starts_at"])
        assert 0 <= lead <= 15 * 60 and a["services"][0] == inc["services"][0], a["id"]
    assert any(a["team_id"] is None for a in alerts) and any(a["ends_at"] is None for a in alerts)
    weeks = {(a["team_id"], datetime.fromisoformat(a["starts_at"][:10]).isocalendar()[:2])
             for a in alerts if a["team_id"]}
    per_team_week = sum(1 for a in alerts if a["team_id"]) / len(weeks)
    assert 5 < per_team_week < 40, per_team_week
    assert {a["status"] for a in alerts} == {"opened", "acknowledged", "resolved", "ignored", "expired"}


def test_maintenance_windows_overlap_some_incidents(demo: Simulator) -> None:
    windows = demo.records("scheduled_maintenances")
    assert 20 < len(windows) < 100
    assert [w for w in windows if w["ends_at"] is None]
    assert [w for w in windows if {i["type"] for i in w["impacts"]} == {"environment"}]
    spans = impact_intervals(demo.records("incidents"), ANCHOR.timestamp())
    overlapping = 0
    for w in windows:
        if w["ends_at"] is None:
            continue
        start, end = seconds(w["starts_at"]), seconds(w["ends_at"])
        for i in w["impacts"]:
            if i["type"] == "service" and any(s < end and start < e for s, e, _ in spans.get(i["impact"]["id"], [])):
                overlapping += 1
    assert 3 <= overlapping <= 15, overlapping


@pytest.mark.parametrize("resource", ["tickets", "alerts", "scheduled_maintenances"])
def test_operations_lists_paginate(sim: Simulator, resource: str) -> None:
    expected = [r["id"] for r in sim.records(resource)]
    path, per_page = Simulator.path(resource)[3:], 97
    pages = math.ceil(len(expected) / per_page)
    seen = []
    for page in range(1, pages + 2):  # one beyond the last: empty
        body = get(sim, path, per_page=per_page, page=page).json()
        assert body["pagination"]["count"] == len(expected) and body["pagination"]["pages"] == pages
        assert body["pagination"]["next"] == (page + 1 if page < pages else None)
        seen += [r["id"] for r in body["data"]]
    assert seen == expected and len(set(seen)) == len(expected)
