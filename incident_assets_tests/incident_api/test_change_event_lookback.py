"""Change events are read incrementally on `starts_at`, which an edit does not move: each run
reads again from the lookback (`change_event_lookback_days`, default 7) before the stored
cursor, so an event edited after it started arrives, merged on `id`."""

from __future__ import annotations

from datetime import datetime, timedelta

from incident_assets_tests.ingestion import ingest, query

CHANGE_EVENTS = ["incident_api/change_events"]


def parsed(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def started_before_cursor(sim, days: float) -> dict:
    """The latest change event that started at least `days` before the newest one (the cursor)."""
    events = sorted(sim.records("change_events"), key=lambda e: e["starts_at"])
    cursor = parsed(events[-1]["starts_at"])
    return [e for e in events if parsed(e["starts_at"]) <= cursor - timedelta(days=days)][-1]


def stored(db, event_id: str) -> list[tuple]:
    return query(db, f"select summary, ends_at from incident_api.change_events where id = '{event_id}'")


def test_an_edited_change_event_arrives_in_the_next_run_once(project, duckdb_path):
    sim = project
    ingest(CHANGE_EVENTS)
    recent, old = started_before_cursor(sim, 3), started_before_cursor(sim, 8)
    cursor = max(e["starts_at"] for e in sim.records("change_events"))
    for event in (recent, old):
        sim.set_fields("change_events", event["id"], summary=f"edited {event['id']}",
                       ends_at="2026-10-30T12:00:00.000Z")
    sim.clear_log()
    ingest(CHANGE_EVENTS)

    # within the lookback: edited in place, nothing duplicated
    ((summary, ends_at),) = stored(duckdb_path, recent["id"])
    assert summary == f"edited {recent['id']}" and ends_at.isoformat() == "2026-10-30T12:00:00+00:00"
    assert query(duckdb_path, "select count(*), count(distinct id) from incident_api.change_events") == [
        (sim.count("change_events"), sim.count("change_events"))
    ]
    # before it: not read again (the lookback bounds what each run re-reads)
    assert stored(duckdb_path, old["id"])[0][0] == old["summary"]
    (asked,) = {e.query["starts_at"] for e in sim.request_log if e.path == "/v1/changes/events"}
    assert parsed(asked) == parsed(cursor) - timedelta(days=7)


def test_the_lookback_is_a_setting(project, duckdb_path, monkeypatch):
    sim = project
    monkeypatch.setenv("SOURCES__INCIDENT_API__CHANGE_EVENT_LOOKBACK_DAYS", "0")
    ingest(CHANGE_EVENTS)
    recent = started_before_cursor(sim, 3)
    cursor = max(e["starts_at"] for e in sim.records("change_events"))
    sim.set_fields("change_events", recent["id"], summary="edited")
    sim.clear_log()
    ingest(CHANGE_EVENTS)
    assert stored(duckdb_path, recent["id"])[0][0] == recent["summary"]
    (asked,) = {e.query["starts_at"] for e in sim.request_log if e.path == "/v1/changes/events"}
    assert parsed(asked) == parsed(cursor)


def test_a_negative_lookback_names_the_key(project, duckdb_path, monkeypatch):
    monkeypatch.setenv("SOURCES__INCIDENT_API__CHANGE_EVENT_LOOKBACK_DAYS", "-1")
    result = ingest(CHANGE_EVENTS, raise_on_error=False)
    assert not result.success
    from incident_assets_tests.ingestion import failure_message

    assert "SOURCES__INCIDENT_API__CHANGE_EVENT_LOOKBACK_DAYS=-1.0: must be a number of days, 0 or more" in \
        failure_message(result)
