"""Tickets (follow-up action items), alerts and scheduled maintenances, consistent with the
incidents: follow-ups are created after their incident's retrospective started, alerts fire
shortly before the incidents they are linked to (plus unlinked noise), and some maintenance
windows overlap an incident on the same service.

Generated from `random.Random(f"operations:{seed}")` only, after the incidents, so adding
these resources changes nothing of the incidents a seed gives. Records are plain API dicts.
"""

from __future__ import annotations

import random

from incident_assets.simulator.catalogs import Catalogs
from incident_assets.simulator.common import ANCHOR_MS, DAY, HOUR, MINUTE, SPAN_MS, iso, uuid_str
from incident_assets.simulator.incidents import Incident

FOLLOWUP_STATES = (("done", 0.55), ("in_progress", 0.1), ("open", 0.25), ("cancelled", 0.1))
INTEGRATIONS = ("Datadog", "Prometheus Alertmanager", "PagerDuty", "New Relic", "CloudWatch")
ALERT_PRIORITIES = ("HIGH", "MEDIUM", "LOW", "INFO")
NOISE_PER_INCIDENT = 2  # unlinked alerts per incident, spread over the whole span


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    roll, total = rng.random(), 0.0
    for value, weight in weighted:
        total += weight
        if roll < total:
            return value
    return weighted[-1][0]


def _succinct(cat: Catalogs, s: int) -> dict:
    if s < 0:
        return dict(cat.ghosts[-1 - s])
    return {"id": cat.services[s]["id"], "name": cat.services[s]["name"]}


def _started(inc: Incident) -> int:
    return inc.milestones[0][2] if inc.milestones else inc.created


def generate_tickets(cat: Catalogs, incidents: list[Incident], rng: random.Random) -> list[dict]:
    tickets = []
    for inc in incidents:
        pm = inc.milestone_time("postmortem_started")
        if pm is None:
            continue
        for _ in range(rng.choice((1, 1, 2, 3))):
            created = min(ANCHOR_MS, pm + int(rng.uniform(0, 3) * DAY))
            state = _pick(rng, FOLLOWUP_STATES)
            due = None if rng.random() < 0.2 else created + rng.randint(7, 30) * DAY
            updated = created
            if state in ("done", "cancelled"):
                updated = min(ANCHOR_MS, created + int(rng.uniform(0.5, 40) * DAY))
            elif state == "in_progress":
                updated = min(ANCHOR_MS, created + int(rng.uniform(0.1, 5) * DAY))
            assignee = cat.author(rng.randrange(len(cat.users)))
            tickets.append(_ticket(cat, rng, "follow_up", state, created, updated, due, [assignee], inc))
    # a few tasks that belong to no incident
    for _ in range(max(1, len(incidents) // 50)):
        created = ANCHOR_MS - rng.randrange(SPAN_MS)
        tickets.append(_ticket(cat, rng, "task", "open", created, created, None, [], None))
    tickets.sort(key=lambda t: (t["created_at"], t["id"]))
    return tickets


def _ticket(cat: Catalogs, rng: random.Random, kind: str, state: str, created: int, updated: int,
            due: int | None, assignees: list[dict], inc: Incident | None) -> dict:
    ticket_id = uuid_str(rng.getrandbits(128))
    summary = f"Follow-up: {inc.name}" if inc is not None else "Housekeeping task"
    return {
        "id": ticket_id, "summary": summary, "description": f"Action item: {summary.lower()}.",
        "state": state, "type": kind, "assignees": assignees,
        "priority": {"id": uuid_str(hash(kind) & ((1 << 128) - 1)), "name": "P3"} if rng.random() < 0.7 else None,
        "created_by": cat.author(rng.randrange(len(cat.users))),
        "created_at": iso(created), "updated_at": iso(updated), "due_at": iso(due),
        "tag_list": ["follow-up"] if kind == "follow_up" else [],
        "incident_id": inc.id if inc is not None else None,
        "incident_name": inc.name if inc is not None else None,
        "incident_current_milestone": inc.current_milestone() if inc is not None else None,
        "task_id": None, "link": f"https://app.firehydrant.io/tickets/{ticket_id}",
    }


def generate_alerts(cat: Catalogs, incidents: list[Incident], rng: random.Random) -> list[dict]:
    alerts = []
    for inc in incidents:
        start = _started(inc)
        for _ in range(rng.choice((1, 1, 2, 3))):
            at = start - rng.randint(0, 15) * MINUTE
            alerts.append(_alert(cat, rng, at, inc.services[0], inc))
    for _ in range(NOISE_PER_INCIDENT * len(incidents)):
        at = ANCHOR_MS - rng.randrange(SPAN_MS)
        alerts.append(_alert(cat, rng, at, rng.randrange(len(cat.services)), None))
    alerts = [a for a in alerts if a["starts_at"] <= iso(ANCHOR_MS)]
    alerts.sort(key=lambda a: (a["starts_at"], a["id"]))
    return alerts


def _alert(cat: Catalogs, rng: random.Random, at: int, service: int, inc: Incident | None) -> dict:
    alert_id = uuid_str(rng.getrandbits(128))
    duration = int(rng.lognormvariate(3, 1.2) * MINUTE)
    ends = None if rng.random() < 0.05 else min(ANCHOR_MS, at + duration)
    owner = cat.service_owner[service] if service >= 0 else None
    team = None if owner is None else cat.teams[owner]
    svc = _succinct(cat, service)
    status = "resolved" if ends is not None else "opened"
    return {
        "id": alert_id, "summary": f"{svc['name']}: {'error rate above threshold' if inc else 'flapping check'}",
        "description": "Triggered by a monitor.", "priority": rng.choice(ALERT_PRIORITIES),
        "integration_name": rng.choice(INTEGRATIONS), "starts_at": iso(at), "ends_at": iso(ends),
        "duration_ms": None if ends is None else ends - at, "status": status,
        "remote_id": f"mon-{alert_id[:8]}", "remote_url": f"https://monitoring.acme.example/alerts/{alert_id[:8]}",
        "labels": {"service": svc["name"]},
        "environments": [{"id": cat.environments[0]["id"], "name": cat.environments[0]["name"]}],
        "services": [svc], "tags": [], "signal_id": None,
        "team_id": team["id"] if team else None, "team_name": team["name"] if team else None,
        "incidents": [] if inc is None else [{"id": inc.id, "name": inc.name, "number": inc.number}],
        "is_expired": False,
    }


def generate_maintenances(cat: Catalogs, incidents: list[Incident], rng: random.Random) -> list[dict]:
    windows = []
    # planned work at night, about one a month on a random service
    for month in range(SPAN_MS // (30 * DAY)):
        start = ANCHOR_MS - (month + 1) * 30 * DAY + rng.randint(0, 27) * DAY + 2 * HOUR
        windows.append(_maintenance(cat, rng, start, start + rng.randint(1, 4) * HOUR,
                                    [("service", rng.randrange(len(cat.services)))]))
    # a few overlap an incident on the same service
    for inc in incidents[:: max(1, len(incidents) // 5)]:
        if inc.services[0] < 0:
            continue
        start = _started(inc) - 30 * MINUTE
        windows.append(_maintenance(cat, rng, start, start + 2 * HOUR, [("service", inc.services[0])]))
    # one on an environment only, one never closed
    start = ANCHOR_MS - 40 * DAY
    windows.append(_maintenance(cat, rng, start, start + 3 * HOUR, [("environment", 1)]))
    windows.append(_maintenance(cat, rng, ANCHOR_MS - 3 * DAY, None, [("service", 0)]))
    windows.sort(key=lambda w: (w["created_at"], w["id"]))
    return windows


def _maintenance(cat: Catalogs, rng: random.Random, start: int, end: int | None,
                 targets: list[tuple[str, int]]) -> dict:
    impacts = []
    for kind, index in targets:
        catalog = cat.services if kind == "service" else cat.environments
        impacts.append({"id": uuid_str(rng.getrandbits(128)), "type": kind,
                        "impact": {"id": catalog[index]["id"], "name": catalog[index]["name"]},
                        "condition": cat.conditions[3]})
    created = start - rng.randint(1, 14) * DAY
    name = f"Planned maintenance of {impacts[0]['impact']['name']}"
    return {
        "id": uuid_str(rng.getrandbits(128)), "name": name, "summary": name,
        "description": "Scheduled work; the service may be unavailable.",
        "starts_at": iso(start), "ends_at": iso(end), "created_at": iso(created), "updated_at": iso(created),
        "labels": {}, "impacts": impacts, "incident": None, "status_pages": [],
    }


def generate_operations(cat: Catalogs, incidents: list[Incident], seed: int) -> dict[str, list[dict]]:
    rng = random.Random(f"operations:{seed}")
    return {
        "tickets": generate_tickets(cat, incidents, rng),
        "alerts": generate_alerts(cat, incidents, rng),
        "scheduled_maintenances": generate_maintenances(cat, incidents, rng),
    }
