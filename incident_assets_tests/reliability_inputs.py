"""Hand-built API records for the reliability golden tests, and how to load them.

The records are shaped as the API serves them and are loaded through dlt with the project's own hints, so the report SQL sees what ingestion produces.
Every expected number in the tests is derived by hand from these records (see the comments).
`GOLDEN` covers the milestone rules and most tables; `WEIGHTS` (a data set of its own) covers
impact weights, scheduled maintenance and stale incidents.

`AS_OF` = Fri 2024-03-15 12:00 UTC. Weekdays: Jan 10 Wed, Jan 20 Sat, Jan 25 Thu, Feb 5 Mon,
Feb 10 Sat, Feb 20 Tue, Mar 1 Fri, Mar 5 Tue, Mar 10 Sun, Mar 14 Thu.
"""

from __future__ import annotations

import copy
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import dlt

from incident_assets.incident_api.endpoints import ENDPOINTS_BY_NAME, resource_hints
from incident_assets.settings import RAW_SCHEMA, REPORT_SCHEMA

AS_OF = datetime(2024, 3, 15, 12, 0, tzinfo=timezone.utc)
AS_OF_ISO = "2024-03-15T12:00:00.000Z"


def ts(value: str) -> str:
    """'2024-01-10 10:00' -> the API's format."""
    return value.replace(" ", "T") + ":00.000Z"


def ms(kind: str, at: str) -> dict[str, Any]:
    return {"id": f"m-{kind}-{at}", "type": kind, "occurred_at": ts(at), "duration": None,
            "created_at": ts(at), "updated_at": ts(at)}


def svc(sid: str, name: str) -> dict[str, str]:
    return {"id": sid, "name": name}


def role(user: tuple[str, str], role_name: str, status: str = "active") -> dict[str, Any]:
    uid, name = user
    return {"id": f"ra-{uid}-{role_name}", "status": status,
            "incident_role": {"id": f"role-{role_name.lower().replace(' ', '-')}", "name": role_name},
            "user": {"id": uid, "name": name, "email": f"{uid}@example.com"},
            "created_at": ts("2024-01-01 00:00"), "updated_at": ts("2024-01-01 00:00")}


def condition(name: str, position: int) -> dict[str, Any]:
    return {"id": f"cond-{position}-{name.strip().lower().replace(' ', '-')}", "name": name, "position": position}


# FireHydrant's default conditions
UNAVAILABLE, PARTIAL = condition("Unavailable", 0), condition("Partially Unavailable", 1)
DEGRADED, BUG = condition("Degraded", 2), condition("Bug", 3)


def impact(target: dict[str, str], cond: dict[str, Any], kind: str = "service") -> dict[str, Any]:
    """One entry of an incident's (or maintenance's) `impacts`."""
    return {"id": f"imp-{target['id']}-{cond['id']}", "type": kind, "impact": target, "condition": cond}


def outage(*services: dict[str, str]) -> list[dict[str, Any]]:
    return [impact(s, UNAVAILABLE) for s in services]


ALICE, BOB, CAROL = ("u-alice", "Alice"), ("u-bob", "Bob"), ("u-carol", "Carol")
API, WEB, DB, GHOST = svc("svc-api", "API"), svc("svc-web", "Web"), svc("svc-db", "Database"), svc("svc-ghost", "Ghost")
PROD, STAGING = svc("env-prod", "Production"), svc("env-stg", "Staging")


def incident(number: int, severity: Optional[str], start: Optional[str], milestones: list[dict[str, Any]],
             services: list[dict[str, str]], created: Optional[str] = None, **extra: Any) -> dict[str, Any]:
    """An incident as the API serves it; unless `impacts` says otherwise, each listed service is
    Unavailable (weight 1, so the availability numbers are those of full outages)."""
    started = [ms("started", start)] if start else []
    return {
        "id": f"inc-{number:02d}", "number": number, "name": f"Incident {number}", "severity": severity,
        "priority": "P1", "current_milestone": "resolved", "active": True,
        "created_at": ts(created or start), "started_at": None, "discarded_at": None,
        "milestones": started + milestones, "services": services, "environments": [],
        "functionalities": [], "team_assignments": [], "role_assignments": [],
        "labels": {}, "custom_fields": [], "report_id": None, "impacts": outage(*services), **extra,
    }


INCIDENTS = [
    # I1 SEV1 API: detect 300, ack 600, mitigate 3600, resolve 7200; retro after 5 days
    incident(1, "SEV1", "2024-01-10 10:00", [
        ms("detected", "2024-01-10 10:05"), ms("acknowledged", "2024-01-10 10:10"),
        ms("customer_notified", "2024-01-10 10:20"),  # custom slug: ignored
        ms("mitigated", "2024-01-10 11:00"), ms("resolved", "2024-01-10 12:00"),
        ms("postmortem_completed", "2024-01-15 12:00")], [API],
        environments=[PROD], functionalities=[svc("fn-checkout", "Checkout")],
        team_assignments=[{"id": "ta-1", "status": "active", "team": {"id": "team-core", "name": "Core"}},
                          {"id": "ta-1b", "status": "inactive", "team": {"id": "team-core", "name": "Core"}}],
        role_assignments=[role(ALICE, "Commander")]),
    # I2 SEV1 API+Web (API listed twice: collapses), Saturday; no detected; ack 1200,
    # mitigate 10800, resolve 14400; never retro'd (overdue)
    incident(2, "SEV1", "2024-01-20 22:00", [
        ms("acknowledged", "2024-01-20 22:20"), ms("mitigated", "2024-01-21 01:00"),
        ms("resolved", "2024-01-21 02:00")], [API, WEB, API], environments=[PROD],
        role_assignments=[role(BOB, "Incident Commander"), role(ALICE, "Communications"),
                          role(CAROL, "Commander", status="inactive")]),
    # I3 SEV2 API reopened: resolved 10:00 and again 12:00 -> resolve 10800; ack 900
    incident(3, "SEV2", "2024-01-25 09:00", [
        ms("acknowledged", "2024-01-25 09:15"), ms("resolved", "2024-01-25 10:00"),
        ms("resolved", "2024-01-25 12:00"), ms("postmortem_completed", "2024-02-05 12:00")], [API],
        report_id="rep-3"),
    # I4 SEV2 Web: postmortem_started without resolved -> resolved at 16:00 (7200); ack 1800
    incident(4, "SEV2", "2024-02-05 14:00", [
        ms("acknowledged", "2024-02-05 14:30"), ms("postmortem_started", "2024-02-05 16:00")], [WEB],
        current_milestone="postmortem_started"),
    # I5 SEV1 API, Saturday: acknowledged before started -> NULL + flag; mitigate 1800, resolve 3600
    incident(5, "SEV1", "2024-02-10 10:00", [
        ms("acknowledged", "2024-02-10 09:50"), ms("mitigated", "2024-02-10 10:30"),
        ms("resolved", "2024-02-10 11:00")], [API], role_assignments=[role(ALICE, "Commander")]),
    # I6 excluded severity
    incident(6, "GAMEDAY", "2024-02-12 10:00", [ms("resolved", "2024-02-12 11:00")], [API],
             role_assignments=[role(ALICE, "Commander")]),
    # I7 archived and excluded severity: archived wins
    incident(7, "MAINTENANCE", "2024-02-14 10:00", [ms("resolved", "2024-02-14 11:00")], [API],
             discarded_at=ts("2024-02-15 00:00")),
    # I8 null severity: reportable, as 'none'; ack 600, resolve 2400; no impact entry: weight 1
    # and missing_impact_condition
    incident(8, None, "2024-02-20 10:00", [
        ms("acknowledged", "2024-02-20 10:10"), ms("resolved", "2024-02-20 10:40")], [DB],
        role_assignments=[role(BOB, "Commander")], impacts=[]),
    # I9 SEV2 API open since Mar 10 12:00 (age 432000), ack 1800
    incident(9, "SEV2", "2024-03-10 12:00", [ms("acknowledged", "2024-03-10 12:30")], [API],
             environments=[STAGING], current_milestone="acknowledged"),
    # I10 SEV1 Web open, unacknowledged, mitigated after 3600 (age 86400)
    incident(10, "SEV1", "2024-03-14 12:00", [ms("mitigated", "2024-03-14 13:00")], [WEB],
             current_milestone="mitigated"),
    # I11 SEV3 DB: no started milestone, no started_at -> created_at; impact spans Jan/Feb
    incident(11, "SEV3", None, [ms("resolved", "2024-02-01 01:00")], [DB], created="2024-01-31 23:00"),
    # I12 SEV2 API+unknown service, overlapping I1's impact; ack 600, mitigate 3600, resolve 5400;
    # an impact entry for API only (the unknown service's condition is missing)
    incident(12, "SEV2", "2024-01-10 10:30", [
        ms("acknowledged", "2024-01-10 10:40"), ms("mitigated", "2024-01-10 11:30"),
        ms("resolved", "2024-01-10 12:00")], [API, GHOST], impacts=outage(API)),
    # I13 SEV3 Web: mitigated after resolved (milestone_order); resolve 3600, impact 5400
    incident(13, "SEV3", "2024-03-01 10:00", [
        ms("resolved", "2024-03-01 11:00"), ms("mitigated", "2024-03-01 11:30")], [WEB]),
    # I14 SEV3 DB: retro completed after as_of (future_timestamp); resolve 1200
    incident(14, "SEV3", "2024-03-05 10:00", [
        ms("resolved", "2024-03-05 10:20"), ms("postmortem_completed", "2024-04-01 00:00")], [DB]),
    # I15 SEV3 DB: no started milestone -> the started_at field; resolve 1800
    incident(15, "SEV3", None, [ms("resolved", "2024-02-25 10:30")], [DB], created="2024-02-25 10:05",
             started_at=ts("2024-02-25 10:00")),
]


def team_lite(tid: str, name: str) -> dict[str, Any]:
    return {"id": tid, "name": name, "slug": tid, "description": None}


CATALOG = {
    "services": [
        {"id": "svc-api", "name": "API", "slug": "api", "service_tier": 1, "labels": {},
         "owner": team_lite("team-core", "Core"), "functionalities": [svc("fn-checkout", "Checkout")],
         "teams": [team_lite("team-core", "Core")]},
        {"id": "svc-web", "name": "Web", "slug": "web", "service_tier": 2, "labels": {},
         "owner": team_lite("team-web", "Web team"), "functionalities": []},
        {"id": "svc-db", "name": "Database", "slug": "db", "service_tier": 3, "labels": {}, "owner": None},
        {"id": "svc-quiet", "name": "Quiet", "slug": "quiet", "service_tier": 1, "labels": {},
         "owner": team_lite("team-gone", "Gone")},
    ],
    "teams": [{"id": "team-core", "name": "Core", "slug": "core"}, {"id": "team-web", "name": "Web", "slug": "web"}],
    "functionalities": [
        {"id": "fn-checkout", "name": "Checkout", "services": [{"id": "svc-api", "name": "API"}]},
        {"id": "fn-search", "name": "Search", "services": [{"id": "svc-web", "name": "Web"}]},
    ],
    "environments": [{"id": "env-prod", "name": "Production"}, {"id": "env-stg", "name": "Staging"}],
    "webhooks": [
        {"id": "wh-1", "url": "https://hooks.example.com/a", "state": "active",
         "subscriptions": ["incidents", "change_events"]},
        {"id": "wh-2", "url": "https://hooks.example.com/b", "state": "inactive", "subscriptions": ["incidents"]},
    ],
    "users": [{"id": "u-alice", "name": "Alice", "email": "a@example.com"},
              {"id": "u-bob", "name": "Bob", "email": "b@example.com"}],
    "retrospectives": [{"id": "retro-1", "name": "I1 review", "incident_id": "inc-01",
                        "created_at": ts("2024-01-15 12:00"), "updated_at": ts("2024-01-15 12:00")}],
    "change_events": [
        # ch1 -> I1 and I12 within 24 h: failed (API, Jan)
        {"id": "ch-1", "summary": "deploy", "starts_at": ts("2024-01-10 09:00"), "services": [API]},
        # ch2: no incident within 24 h
        {"id": "ch-2", "summary": "deploy", "starts_at": ts("2024-01-22 00:00"), "services": [API]},
        # ch6: API and DB; I11 (DB) 11 h later: failed for DB and overall, not for API
        {"id": "ch-6", "summary": "migration", "starts_at": ts("2024-01-31 12:00"), "services": [API, DB]},
        # ch3 -> I4 23 h later: failed (Web, Feb)
        {"id": "ch-3", "summary": "deploy", "starts_at": ts("2024-02-04 15:00"), "services": [WEB]},
        # ch4 -> only the GAMEDAY incident follows: not failed
        {"id": "ch-4", "summary": "deploy", "starts_at": ts("2024-02-12 09:00"), "services": [API]},
        # ch5 after as_of: left out
        {"id": "ch-5", "summary": "deploy", "starts_at": ts("2024-03-20 09:00"), "services": [API]},
    ],
}

GOLDEN: dict[str, list[dict[str, Any]]] = {"incidents": INCIDENTS, **CATALOG}


# --- impact weights: a data set of its own (same AS_OF) ----------------------------------------
#
# Feb 2024 has 29 days = 41760 minutes; Jan 44640; Mar up to as_of 14.5 days = 20880. The SLO
# window is [Feb 14 12:00, Mar 15 12:00) = 43200 minutes. Every incident is SEV2 (reportable).

PAY, SEARCH, MAIL, AUTH = (svc("svc-pay", "Payments"), svc("svc-search", "Search"), svc("svc-mail", "Mail"),
                           svc("svc-auth", "Auth"))
# renamed and custom conditions: not in the weights map, weighed by position
TOTALLY_DOWN, LIMPING, COSMETIC = condition("Totally Down", 0), condition("Limping", 1), condition("Cosmetic", 5)
# a default name written loosely: the name wins over its (odd) position
LOOSE_UNAVAILABLE = condition("  unAVAILABLE ", 3)


def window(number: int, start: str, end: str, services: list[dict[str, str]], impacts: list[dict[str, Any]],
           end_kind: str = "mitigated", **extra: Any) -> dict[str, Any]:
    """A resolved reportable incident impacting from `start` to its `end_kind` milestone at `end`
    (mitigated: resolved at the same time too)."""
    ends = [ms("mitigated", end), ms("resolved", end)] if end_kind == "mitigated" else [ms(end_kind, end)]
    return incident(number, "SEV2", start, ends, services, impacts=impacts, **extra)


def maintenance(mid: str, start: str, end: Optional[str], impacts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": mid, "name": f"Maintenance {mid}", "summary": None, "description": None,
            "starts_at": ts(start), "ends_at": ts(end) if end else None,
            "created_at": ts("2024-01-01 00:00"), "updated_at": ts("2024-01-01 00:00"),
            "labels": {}, "impacts": impacts, "incident": None, "status_pages": []}


WEIGHT_INCIDENTS = [
    # W1 Payments Feb 5 [10:00, 12:00) Partially Unavailable: 0.3. Its entries for Search (not
    # listed) and for an environment are ignored.
    window(21, "2024-02-05 10:00", "2024-02-05 12:00", [PAY],
           [impact(PAY, PARTIAL), impact(SEARCH, UNAVAILABLE), impact(PROD, UNAVAILABLE, "environment")]),
    # W2 Payments Feb 5 [11:00, 11:30) "  unAVAILABLE " (position 3): by name, 1.0; overlaps W1,
    # which it outweighs while both are open (resolved, not mitigated)
    window(22, "2024-02-05 11:00", "2024-02-05 11:30", [PAY], [impact(PAY, LOOSE_UNAVAILABLE)], "resolved"),
    # W3 Payments Feb 20 [08:00, 10:00), three entries: Degraded 0, Limping (position 1) 0.3,
    # Totally Down (position 0) 1.0: the highest, 1.0. Maintenance from 09:00 (M1).
    window(23, "2024-02-20 08:00", "2024-02-20 10:00", [PAY],
           [impact(PAY, DEGRADED), impact(PAY, LIMPING), impact(PAY, TOTALLY_DOWN)]),
    # W4 Payments Feb 25 [10:00, 11:00) 0.3, inside maintenance M2 [09:00, 12:00): weighs nothing
    window(24, "2024-02-25 10:00", "2024-02-25 11:00", [PAY], [impact(PAY, PARTIAL)]),
    # W5 Search Feb 10 [10:00, 12:00) Cosmetic (position 5): 0
    window(25, "2024-02-10 10:00", "2024-02-10 12:00", [SEARCH], [impact(SEARCH, COSMETIC)], "resolved"),
    # W6 Search and Mail Feb 10 [11:00, 11:30) (mitigated; resolved 13:00): an entry for Mail
    # only, so Search weighs 1.0 and is reported as missing_impact_condition
    incident(26, "SEV2", "2024-02-10 11:00", [ms("mitigated", "2024-02-10 11:30"), ms("resolved", "2024-02-10 13:00")],
             [SEARCH, MAIL], impacts=[impact(MAIL, UNAVAILABLE)]),
    # W7 Auth open since Jan 20 00:00 (55.5 days before as_of: stale_open), Partially Unavailable
    incident(27, "SEV2", "2024-01-20 00:00", [], [AUTH], impacts=[impact(AUTH, PARTIAL)]),
    # W8 Auth open since Mar 14 12:00 (1 day: not stale), Degraded: 0
    incident(28, "SEV2", "2024-03-14 12:00", [], [AUTH], impacts=[impact(AUTH, DEGRADED)]),
    # W9 Payments Mar 1 [10:00, 14:00): the longest in the SLO window, but Degraded: 0
    window(29, "2024-03-01 10:00", "2024-03-01 14:00", [PAY], [impact(PAY, DEGRADED)]),
    # W10 Payments Mar 2 [10:00, 15:00) 0.3: 300 min x 0.3 = 90 weighted minutes, more than W3's
    # 60 once maintenance is taken out (120 without)
    window(30, "2024-03-02 10:00", "2024-03-02 15:00", [PAY], [impact(PAY, PARTIAL)]),
]

MAINTENANCES = [
    # M1 and M1b overlap: Payments under maintenance Feb 20 [09:00, 13:00) = 240 minutes
    maintenance("m-1", "2024-02-20 09:00", "2024-02-20 12:00", [impact(PAY, BUG)]),
    maintenance("m-1b", "2024-02-20 11:00", "2024-02-20 13:00", [impact(PAY, BUG)]),
    # M2 covers W4 whole: Feb 25 [09:00, 12:00) = 180 minutes
    maintenance("m-2", "2024-02-25 09:00", "2024-02-25 12:00", [impact(PAY, BUG)]),
    # M3 without an end: covers nothing
    maintenance("m-3", "2024-02-26 00:00", None, [impact(PAY, UNAVAILABLE)]),
    # M4 on an environment only, during W1: covers no service
    maintenance("m-4", "2024-02-05 10:00", "2024-02-05 12:00", [impact(PROD, UNAVAILABLE, "environment")]),
]

WEIGHTS: dict[str, list[dict[str, Any]]] = {
    "incidents": WEIGHT_INCIDENTS,
    "scheduled_maintenances": MAINTENANCES,
    "services": [
        {"id": "svc-pay", "name": "Payments", "slug": "pay", "service_tier": 1, "labels": {}, "owner": None},
        {"id": "svc-search", "name": "Search", "slug": "search", "service_tier": 2, "labels": {}, "owner": None},
        {"id": "svc-mail", "name": "Mail", "slug": "mail", "service_tier": 3, "labels": {}, "owner": None},
        {"id": "svc-auth", "name": "Auth", "slug": "auth", "service_tier": 2, "labels": {}, "owner": None},
    ],
}


def load(pipeline: dlt.Pipeline, data: dict[str, list[dict[str, Any]]]) -> None:
    resources = [dlt.resource(copy.deepcopy(rows), write_disposition="merge",
                              **resource_hints(ENDPOINTS_BY_NAME[name]))
                 for name, rows in data.items()]
    pipeline.run(resources)


POSTGRES_URL_ENV = "INCIDENT_ASSETS_TEST_POSTGRES_URL"  # e.g. postgresql://user:pw@127.0.0.1:5432/db


class TestDestination:
    """One engine for the reliability tests; engine specifics live only here.

    `duckdb`: a fresh file per instance. `postgres`: the database at `postgres_url` (the
    tests pass a database of their own, see conftest's `postgres_url`), else at the URL in
    `POSTGRES_URL_ENV`, with the project's schemas dropped first.
    """

    __test__ = False

    def __init__(self, engine: str, workdir: Path, postgres_url: Optional[str] = None) -> None:
        self.engine, self.workdir = engine, workdir
        self.postgres_url = postgres_url or (os.environ.get(POSTGRES_URL_ENV) if engine == "postgres" else None)
        workdir.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("DLT_DATA_DIR", str(workdir / "dlt"))
        if engine == "duckdb":
            self.duckdb_path = workdir / "incidents.duckdb"
        elif engine != "postgres":
            raise ValueError(engine)
        elif not self.postgres_url:
            raise ValueError(f"engine postgres needs a database URL (postgres_url or {POSTGRES_URL_ENV})")

    def dlt_destination(self) -> Any:
        if self.engine == "duckdb":
            return dlt.destinations.duckdb(credentials=str(self.duckdb_path))
        return dlt.destinations.postgres(credentials=self.postgres_url)

    def env(self) -> dict[str, str]:
        """Environment making the `destination` resource (the assets) point at this destination."""
        env = {"INCIDENT_ASSETS_DESTINATION": self.engine}
        if self.engine == "duckdb":
            env["DESTINATION__DUCKDB__CREDENTIALS"] = str(self.duckdb_path)
        else:
            env["DESTINATION__POSTGRES__CREDENTIALS"] = self.postgres_url
        return env

    def pipeline(self) -> dlt.Pipeline:
        return dlt.pipeline(pipeline_name="reliability_test", destination=self.dlt_destination(),
                            dataset_name=RAW_SCHEMA, pipelines_dir=str(self.workdir / "pipelines"))

    def reset(self) -> None:
        if self.engine == "postgres":
            with self.pipeline().sql_client() as sql:
                for schema in (RAW_SCHEMA, f"{RAW_SCHEMA}_staging", REPORT_SCHEMA, f"{REPORT_SCHEMA}_inputs"):
                    sql.execute_sql(f"drop schema if exists {schema} cascade")

    def query(self, sql: str) -> list[tuple]:
        with self.pipeline().sql_client() as client:
            return [tuple(r) for r in client.execute_sql(sql) or []]


def loaded_destination(engine: str, workdir: Path,
                       data: dict[str, list[dict[str, Any]]] = GOLDEN,
                       postgres_url: Optional[str] = None) -> TestDestination:
    dest = TestDestination(engine, workdir, postgres_url)
    dest.reset()
    load(dest.pipeline(), data)
    return dest
