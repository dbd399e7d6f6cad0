"""Hand-built API records for the golden tests of responder load, follow-ups and alert noise.

Shaped as the API serves them and loaded with the project's hints (see `reliability_inputs.py`).
The reports run with `TIMEZONE` = Europe/Berlin: CET (UTC+1) until 2024-03-31 01:00 UTC,
CEST (UTC+2) until 2024-10-27 01:00 UTC, CET again after. Each record's comment gives its
local wall-clock time and bucket (business = Mon-Fri 08-18, sleep = 22-08, off = the rest).

`AS_OF_OPS` = Fri 2024-11-01 12:00 UTC. Weekdays: Mar 4 Mon, Mar 8 Fri, Mar 25 Mon, Mar 27 Wed,
Mar 31 Sun, Apr 1 Mon, Oct 21 Mon, Oct 25 Fri, Oct 26 Sat, Oct 27 Sun, Oct 28 Mon, Oct 31 Thu.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from incident_assets_tests.reliability_inputs import incident, ms, ts

AS_OF_OPS = datetime(2024, 11, 1, 12, 0, tzinfo=timezone.utc)
AS_OF_OPS_ISO = "2024-11-01T12:00:00.000Z"
TIMEZONE = "Europe/Berlin"

DANA, EVE = ("u-dana", "Dana"), ("u-eve", "Eve A.")  # only Dana is in the users endpoint


def assignment(user: tuple[str, str], role_name: str, created: str, status: str = "active") -> dict[str, Any]:
    uid, name = user
    return {"id": f"ra-{uid}-{role_name}-{created}", "status": status,
            "incident_role": {"id": f"role-{role_name.lower()}", "name": role_name},
            "user": {"id": uid, "name": name, "email": f"{uid}@example.com"},
            "created_at": ts(created), "updated_at": ts(created)}


def resolved(at: str) -> list[dict[str, Any]]:
    return [ms("resolved", at)]


INCIDENTS = [
    # O41 SEV1 Mon Mar 4 07:30 UTC = 08:30 CET: business (in UTC it would be sleep).
    # Dana twice (Commander at 08:00, Scribe at 07:45): counted once, as commander;
    # effort from the earliest, 07:45, to resolved 10:30 = 2.75 h
    incident(41, "SEV1", "2024-03-04 07:30", resolved("2024-03-04 10:30"), [],
             role_assignments=[assignment(DANA, "Commander", "2024-03-04 08:00"),
                               assignment(DANA, "Scribe", "2024-03-04 07:45")]),
    # O42 SEV2 Mon Mar 4 17:30 UTC = 18:30 CET: off. Dana from 18:00 to 19:00 = 1 h
    incident(42, "SEV2", "2024-03-04 17:30", resolved("2024-03-04 19:00"), [],
             role_assignments=[assignment(DANA, "Ops lead", "2024-03-04 18:00")]),
    # O43 SEV2 Fri Mar 8 21:30 UTC = 22:30 CET: sleep. Dana assigned after the resolution: 0 h
    incident(43, "SEV2", "2024-03-08 21:30", resolved("2024-03-08 22:00"), [],
             role_assignments=[assignment(DANA, "Ops lead", "2024-03-08 23:00")]),
    # O44 SEV3 Sun Mar 31 06:30 UTC = 08:30 CEST (DST began at 01:00 UTC): off, not sleep as
    # with CET. Eve active from 06:30 to 07:30 = 1 h (her inactive 05:00 assignment is ignored)
    incident(44, "SEV3", "2024-03-31 06:30", resolved("2024-03-31 07:30"), [],
             role_assignments=[assignment(EVE, "Ops lead", "2024-03-31 06:30"),
                               assignment(EVE, "Commander", "2024-03-31 05:00", status="inactive")]),
    # O45 SEV1 open since Thu Oct 31 22:30 UTC = 23:30 CET: sleep. Dana (incident commander)
    # from 23:00 to as_of Nov 1 12:00 = 13 h
    incident(45, "SEV1", "2024-10-31 22:30", [], [],
             role_assignments=[assignment(DANA, "Incident Commander", "2024-10-31 23:00")]),
    # O46 SEV2 Mon Oct 28 06:30 UTC = 07:30 CET (DST ended Oct 27): sleep, not business as
    # with CEST. Dana commander from 06:45 to 08:00 = 1.25 h
    incident(46, "SEV2", "2024-10-28 06:30", resolved("2024-10-28 08:00"), [],
             role_assignments=[assignment(DANA, "commander", "2024-10-28 06:45")]),
    # O47 SEV3 Fri Oct 25 06:30 UTC = 08:30 CEST: business. Eve from 06:30 to 07:00 = 0.5 h
    incident(47, "SEV3", "2024-10-25 06:30", resolved("2024-10-25 07:00"), [],
             role_assignments=[assignment(EVE, "Ops lead", "2024-10-25 06:30")]),
    # O48 null severity (follow-ups count as 'none'); nobody assigned
    incident(48, None, "2024-03-15 10:00", resolved("2024-03-15 11:00"), []),
    # O49 GAMEDAY: not reportable, Dana's assignment does not count
    incident(49, "GAMEDAY", "2024-03-05 10:00", resolved("2024-03-05 11:00"), [],
             role_assignments=[assignment(DANA, "Commander", "2024-03-05 10:00")]),
]

USERS = [{"id": "u-dana", "name": "Dana Doe", "email": "dana@example.com"}]


def ticket(tid: str, state: str, created: str, updated: str, incident_id: Optional[str] = None,
           due: Optional[str] = None, kind: str = "follow_up") -> dict[str, Any]:
    author = {"id": "u-dana", "name": "Dana Doe", "source": "firehydrant_user", "email": "dana@example.com"}
    return {
        "id": tid, "summary": f"Action item {tid}", "description": None, "state": state, "type": kind,
        "assignees": [author], "priority": None, "created_by": author,
        "created_at": ts(created), "updated_at": ts(updated), "due_at": ts(due) if due else None,
        "tag_list": ["follow-up"], "incident_id": incident_id,
        "incident_name": None, "incident_current_milestone": None, "task_id": None, "link": None,
    }


TICKETS = [
    # March 2024
    ticket("t-01", "done", "2024-03-05 10:00", "2024-03-07 10:00", "inc-41"),  # SEV1, 2 days
    ticket("t-02", "done", "2024-03-06 00:00", "2024-03-12 00:00", "inc-41"),  # SEV1, 6 days
    ticket("t-03", "cancelled", "2024-03-06 12:00", "2024-03-06 13:00", "inc-41"),  # SEV1, not in the p50
    ticket("t-04", "open", "2024-03-07 09:00", "2024-03-07 09:00", "inc-42", due="2024-04-01 00:00"),  # SEV2, overdue
    ticket("t-05", "in_progress", "2024-03-08 09:00", "2024-03-09 09:00", due="2024-12-01 00:00"),  # none, due later
    ticket("t-06", "open", "2024-03-09 09:00", "2024-03-09 09:00", "inc-99"),  # unknown incident: none; no due
    ticket("t-07", "done", "2024-03-20 00:00", "2024-03-21 12:00", "inc-48"),  # null severity: none, 1.5 days
    ticket("t-08", "open", "2024-03-10 09:00", "2024-03-10 09:00", "inc-41", due="2024-04-01 00:00",
           kind="task"),  # not a follow-up: left out
    # Mar 31 23:30 UTC (April 1 in Berlin): a March row, months are UTC; SEV2, 3 days
    ticket("t-09", "done", "2024-03-31 23:30", "2024-04-03 23:30", "inc-42"),
    # October 2024
    ticket("t-10", "open", "2024-10-01 00:00", "2024-10-01 00:00", "inc-41", due="2024-11-01 12:00"),  # due = as_of: not overdue
    ticket("t-11", "in_progress", "2024-10-02 00:00", "2024-10-03 00:00", due="2024-10-15 00:00"),  # none, overdue
    ticket("t-12", "open", "2024-11-02 00:00", "2024-11-02 00:00", "inc-41"),  # created after as_of: left out
]


def alert(aid: str, start: Optional[str], end: Optional[str], team: Optional[tuple[str, str]] = None,
          incidents: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "id": aid, "summary": f"Alert {aid}", "description": None, "priority": "HIGH",
        "integration_name": "Prometheus", "starts_at": ts(start) if start else None,
        "ends_at": ts(end) if end else None, "duration_ms": None, "status": "resolved" if end else "opened",
        "remote_id": None, "remote_url": None, "labels": {"check": aid},
        "environments": [{"id": "env-prod", "name": "Production"}], "services": [{"id": "svc-api", "name": "API"}],
        "tags": ["paging"], "signal_id": None,
        "team_id": team[0] if team else None, "team_name": team[1] if team else None,
        "incidents": [{"id": i, "name": f"Incident {i}", "number": int(i[-2:])} for i in incidents],
        "is_expired": False,
    }


CORE, WEB = ("team-core", "Core"), ("team-web", "Web team")

ALERTS = [
    # week of Mon 2024-03-25 (UTC); DST begins Sun Mar 31 01:00 UTC
    alert("a-01", "2024-03-25 00:00", "2024-03-25 00:10", CORE, ("inc-41",)),  # first instant; 01:00 CET sleep; 10 min
    alert("a-02", "2024-03-31 23:59", None, CORE),  # last minute of the week; Mon 01:59 CEST sleep; no end
    alert("a-03", "2024-03-31 00:30", "2024-03-31 01:00", CORE),  # 01:30 CET sleep; 30 min
    alert("a-04", "2024-03-31 06:30", "2024-03-31 07:30", CORE, ("inc-41", "inc-42")),  # 08:30 CEST off; 60 min
    alert("a-05", "2024-03-27 07:30", "2024-03-27 07:50"),  # no team; Wed 08:30 CET business; 20 min
    # week of Mon 2024-04-01
    alert("a-06", "2024-04-01 00:00", None, CORE, ("inc-44",)),  # 02:00 CEST sleep; no end
    # week of Mon 2024-10-21; DST ends Sun Oct 27 01:00 UTC
    alert("a-07", "2024-10-25 16:30", "2024-10-25 16:45", WEB),  # Fri 18:30 CEST off; 15 min
    alert("a-08", "2024-10-25 06:30", "2024-10-25 06:35", WEB, ("inc-47",)),  # Fri 08:30 CEST business; 5 min
    alert("a-09", "2024-10-27 00:30", None, WEB),  # Sun 02:30 CEST (the first one) sleep; no end
    alert("a-10", "2024-10-27 06:30", "2024-10-27 07:30", WEB),  # Sun 07:30 CET sleep; 60 min
    alert("a-11", "2024-10-26 20:30", "2024-10-26 20:40", None, ("inc-45",)),  # no team; Sat 22:30 CEST sleep; 10 min
    alert("a-12", None, None, WEB),  # no starts_at: left out
]

OPERATIONS: dict[str, list[dict[str, Any]]] = {
    "incidents": INCIDENTS, "users": USERS, "tickets": TICKETS, "alerts": ALERTS,
}


# Follow-ups and alerts of the first quarter of 2024, around the incidents of the main golden data
# (`reliability_inputs.GOLDEN`, as of 2024-03-15), so that the HTML report draws every chart.
GOLDEN_Q1_TICKETS = [
    ticket("q-01", "done", "2024-01-16 10:00", "2024-01-20 10:00", "inc-01"),
    ticket("q-02", "open", "2024-01-16 11:00", "2024-01-16 11:00", "inc-01", due="2024-02-01 00:00"),  # overdue
    ticket("q-03", "cancelled", "2024-02-06 09:00", "2024-02-07 09:00", "inc-04"),
    ticket("q-04", "in_progress", "2024-02-06 10:00", "2024-02-08 10:00", "inc-04", due="2024-04-01 00:00"),
    ticket("q-05", "done", "2024-03-02 09:00", "2024-03-04 09:00", "inc-13"),
]
GOLDEN_Q1_ALERTS = [
    alert("qa-01", "2024-01-10 09:55", "2024-01-10 10:40", CORE, ("inc-01",)),
    alert("qa-02", "2024-01-11 03:00", "2024-01-11 03:05", CORE),
    alert("qa-03", "2024-01-20 21:55", "2024-01-20 23:00", WEB, ("inc-02",)),
    alert("qa-04", "2024-02-05 13:58", "2024-02-05 14:30", WEB, ("inc-04",)),
    alert("qa-05", "2024-02-07 12:00", None),
    alert("qa-06", "2024-03-01 09:59", "2024-03-01 10:30", WEB, ("inc-13",)),
    alert("qa-07", "2024-03-06 19:00", "2024-03-06 19:20", CORE),
]
