"""Tickets (follow-up action items), alerts and scheduled maintenances, consistent with the
incidents: follow-ups are created after their incident (most after its retrospective started),
alerts fire shortly before the incidents they are linked to (plus unlinked noise), and some
maintenance windows overlap an incident on the same service.

Generated from `random.Random(f"operations:{seed}")` only, after the incidents, so these
resources change nothing of the incidents a seed gives. Tickets and alerts (alerts are the big
list, several per incident) are kept compact and rendered to API dicts on demand, like incidents;
the few maintenance windows are plain API dicts.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from operator import attrgetter

from incident_assets.simulator.catalogs import DEGRADED, PARTIALLY_UNAVAILABLE, UNAVAILABLE, Catalogs
from incident_assets.simulator.common import (
    ANCHOR_MS, DAY, HOUR, MINUTE, SPAN_MS, child_id, iso, uuid_str)
from incident_assets.simulator.incidents import Incident

INTEGRATIONS = ("Datadog", "Prometheus Alertmanager", "New Relic", "CloudWatch", "FireHydrant Signals")
SIGNALS = len(INTEGRATIONS) - 1  # alerts of FireHydrant's own Signals carry a signal_id
ALERT_PRIORITIES = ("HIGH", "MEDIUM", "LOW")
CHECKS = ("error rate above 5%", "p99 latency above 2s", "health check failing",
          "pod restarts", "queue depth above threshold", "disk usage above 90%",
          "saturation above 80%", "synthetic check failed")
NOISE_PER_INCIDENT = 2.6  # unlinked alerts per incident, spread over the whole span
# severity -> (share of incidents an alert led to, follow-ups per retrospective, ticket priority)
BY_SEVERITY = {"SEV1": (0.9, (2, 3, 4, 5), 0), "SEV2": (0.85, (1, 2, 3), 1),
                    "SEV3": (0.7, (0, 1, 1, 2), 2)}
DEFAULT_BY_SEVERITY = (0.6, (0, 1), 3)
_ALERT_STATUSES = ("resolved", "acknowledged", "ignored", "expired")


class Ticket:
    """Compact ticket; `render_ticket` builds the API dict."""

    __slots__ = ("id", "base", "kind", "state", "created", "updated", "due", "assignees",
                 "priority", "creator", "incident", "incident_name", "incident_milestone", "task")


class Alert:
    """Compact alert; `render_alert` builds the API dict. service < 0: a ghost service."""

    __slots__ = ("base", "starts", "ends", "service", "env", "team", "incident", "status",
                 "priority", "integration")

    @property
    def id(self) -> str:
        return uuid_str(self.base)


# ---------------------------------------------------------------- tickets

def _followup_state(rng: random.Random, created: int) -> tuple[str, int]:
    """State and last update of a follow-up created at `created`: older ones are mostly done,
    recent ones mostly open; a done item's last update is when it was closed."""
    r = rng.random
    if r() < 0.07:
        return "cancelled", min(ANCHOR_MS, created + int((1 + 30 * r()) * DAY))
    closed = created + int(rng.lognormvariate(math.log(12 * DAY), 1.0))
    if closed <= ANCHOR_MS and r() < 0.88:  # some are never done
        return "done", closed
    if r() < 0.3:
        return "in_progress", min(ANCHOR_MS, created + int((0.1 + 10 * r()) * DAY))
    return "open", created


def _ticket(rng: random.Random, cat: Catalogs, kind: str, created: int, inc: Incident | None,
            team: int | None, priority: int | None) -> Ticket:
    r = rng.random
    t = Ticket()
    t.base = rng.getrandbits(128)
    t.id = uuid_str(t.base)
    t.kind, t.created, t.priority, t.task = kind, created, priority, None
    t.state, t.updated = _followup_state(rng, created)
    t.due = None if r() < 0.2 else created + (7 + int(23 * r())) * DAY
    members = cat.team_members[team] if team is not None else range(len(cat.users))
    t.assignees = [] if t.state == "open" and r() < 0.3 else [members[int(r() * len(members))]]
    t.creator = members[int(r() * len(members))]
    t.incident = None if inc is None else inc.id
    t.incident_name = None if inc is None else inc.name
    t.incident_milestone = None if inc is None else inc.current_milestone()
    return t


def generate_tickets(cat: Catalogs, incidents: list[Incident], rng: random.Random) -> list[Ticket]:
    r = rng.random
    tickets = []
    for inc in incidents:
        _, counts, priority = BY_SEVERITY.get(inc.severity, DEFAULT_BY_SEVERITY)
        retro = inc.milestone_time("postmortem_started")
        resolved = inc.milestone_time("resolved")
        team = inc.teams[0]
        if retro is not None:  # the retrospective's action items
            for _ in range(counts[int(r() * len(counts))]):
                created = retro + int(3 * r() * DAY)
                if created <= ANCHOR_MS:
                    tickets.append(_ticket(rng, cat, "follow_up", created, inc, team, priority))
        elif resolved is not None and r() < 0.08:  # a fix noted without a retrospective
            created = resolved + int(2 * r() * DAY)
            if created <= ANCHOR_MS:
                tickets.append(_ticket(rng, cat, "follow_up", created, inc, team, priority))
        if r() < 0.03:  # a runbook task worked during the incident
            task = _ticket(rng, cat, "task", inc.milestones[0][2] + int(30 * r() * MINUTE), inc, team, None)
            task.task = child_id(inc.base, 90)
            task.due = None
            tickets.append(task)
    # follow-ups of no incident (from a game day), and of incidents since deleted
    for k in range(max(2, len(incidents) // 250)):
        created = ANCHOR_MS - int(r() * SPAN_MS)
        t = _ticket(rng, cat, "follow_up", created, None, None, None if r() < 0.5 else 3)
        if k % 2:
            t.incident, t.incident_name = uuid_str(rng.getrandbits(128)), "Deleted incident"
        tickets.append(t)
    tickets = [t for t in tickets if t.created <= ANCHOR_MS]
    tickets.sort(key=lambda t: (t.created, t.id))
    return tickets


def render_ticket(cat: Catalogs, t: Ticket) -> dict:
    summary = f"Follow-up: {t.incident_name}" if t.kind == "follow_up" and t.incident_name else (
        "Runbook task" if t.kind == "task" else "Action item from the game day")
    key = f"ACME-{t.base % 9000 + 1000}"
    return {
        "id": t.id, "summary": summary, "description": f"{summary}.",
        "state": t.state, "type": t.kind, "assignees": [cat.author(u) for u in t.assignees],
        "priority": None if t.priority is None else dict(cat.ticket_priorities[t.priority]),
        "created_by": cat.author(t.creator),
        "created_at": iso(t.created), "updated_at": iso(t.updated), "due_at": iso(t.due),
        "tag_list": ["follow-up"] if t.kind == "follow_up" else [],
        "incident_id": t.incident, "incident_name": t.incident_name,
        "incident_current_milestone": t.incident_milestone, "task_id": t.task,
        "link": {"id": child_id(t.base, 1), "type": "link", "display_text": key,
                 "href_url": f"https://acme.atlassian.net/browse/{key}",
                 "icon_url": "https://acme.atlassian.net/favicon.ico", "editable": False, "deletable": False},
    }


# ---------------------------------------------------------------- alerts

def _alert(rng: random.Random, cat: Catalogs, starts: int, service: int, inc: Incident | None,
           median_ms: float) -> Alert:
    """An alert on `service`, routed to the team owning it (none for a ghost or unowned service)."""
    r = rng.random
    a = Alert()
    a.base = rng.getrandbits(128)
    a.starts, a.service, a.incident = starts, service, inc
    a.env = 0 if r() < 0.85 else 1
    owner = cat.service_owner[service] if service >= 0 else None
    a.team = None if owner is None or r() < 0.03 else owner
    a.priority = int(r() * len(ALERT_PRIORITIES)) if inc is None else int(r() * 2)
    a.integration = int(r() * len(INTEGRATIONS))
    roll = r()
    ends = starts + int(median_ms * math.exp(rng.gauss()))  # log-normal
    if ends > ANCHOR_MS or roll < 0.02:  # still firing, or never closed by its integration
        a.ends, a.status = None, "opened" if r() < 0.5 else "acknowledged"
    else:
        a.ends = ends
        a.status = "resolved" if inc is not None or roll < 0.8 else _ALERT_STATUSES[2 + int(2 * r())]
    return a


def _noise_start(rng: random.Random) -> int:
    """Any hour of any day, busier in the daytime (traffic-driven thresholds trip then)."""
    r = rng.random
    day_start = ANCHOR_MS - (int(r() * (SPAN_MS // DAY)) + 1) * DAY
    hour = 7 + 13 * r() if r() < 0.6 else 24 * r()
    return day_start + int(hour * HOUR)


def generate_alerts(cat: Catalogs, incidents: list[Incident], rng: random.Random) -> list[Alert]:
    r = rng.random
    alerts = []
    for inc in incidents:
        p_alerted, _, _ = BY_SEVERITY.get(inc.severity, DEFAULT_BY_SEVERITY)
        if r() >= p_alerted:  # declared by a person, not paged by a monitor
            continue
        start = inc.milestones[0][2]
        for _ in range(1 + int(r() * 3)):  # the same problem trips one to three monitors
            alerts.append(_alert(rng, cat, start - int(15 * r() * MINUTE), inc.services[0], inc, 40 * MINUTE))
    # noisy monitors: a few services page far more than the rest
    noisy = list(itertools.accumulate(rng.lognormvariate(0, 1.0) for _ in cat.services))
    for _ in range(int(NOISE_PER_INCIDENT * len(incidents))):
        service = bisect.bisect(noisy, r() * noisy[-1])
        alerts.append(_alert(rng, cat, _noise_start(rng), service, None, 6 * MINUTE))
    alerts = [a for a in alerts if a.starts <= ANCHOR_MS]
    alerts.sort(key=attrgetter("base"))
    alerts.sort(key=attrgetter("starts"))  # stable: by start, then base
    return alerts


def render_alert(cat: Catalogs, a: Alert) -> dict:
    alert_id = a.id
    svc = cat.service_succinct(a.service)
    env = cat.environments[a.env]
    check = CHECKS[a.base % len(CHECKS)]
    team = None if a.team is None else cat.teams[a.team]
    inc = a.incident
    return {
        "id": alert_id, "summary": f"{svc['name']}: {check}",
        "description": f"Monitor on {svc['name']} ({env['name']}): {check}.",
        "priority": ALERT_PRIORITIES[a.priority], "integration_name": INTEGRATIONS[a.integration],
        "starts_at": iso(a.starts), "ends_at": iso(a.ends),
        "duration_ms": None if a.ends is None else a.ends - a.starts, "status": a.status,
        "remote_id": f"mon-{alert_id[:8]}",
        "remote_url": f"https://monitoring.acme.example/alerts/{alert_id[:8]}",
        "labels": {"service": svc["name"], "environment": env["name"]},
        "environments": [{"id": env["id"], "name": env["name"]}], "services": [svc],
        "tags": [f"env:{env['name']}"],
        "signal_id": child_id(a.base, 1) if a.integration == SIGNALS else None,
        "team_id": None if team is None else team["id"], "team_name": None if team is None else team["name"],
        "incidents": [] if inc is None else [{"id": inc.id, "name": inc.name, "number": str(inc.number)}],
        "is_expired": a.status == "expired",
    }


# ---------------------------------------------------------------- scheduled maintenances

def generate_maintenances(cat: Catalogs, incidents: list[Incident], rng: random.Random) -> list[dict]:
    r = rng.random
    n_services = len(cat.services)
    windows = []
    # planned work at night, about two a month, on a random service
    for k in range(SPAN_MS // (15 * DAY)):
        start = ANCHOR_MS - (k + 1) * 15 * DAY + int(13 * r()) * DAY + (1 + int(3 * r())) * HOUR
        windows.append(_maintenance(cat, rng, start, start + (1 + int(4 * r())) * HOUR,
                                    [("service", int(r() * n_services))], UNAVAILABLE))
    # work that overran into an incident on the same service: the window covers its first part
    hit = [i for i in incidents if i.services[0] >= 0 and i.severity in ("SEV1", "SEV2", "SEV3")]
    for inc in hit[len(hit) // 16:: max(1, len(hit) // 8)][:8]:
        start = inc.milestones[0][2] - (15 + int(45 * r())) * MINUTE
        windows.append(_maintenance(cat, rng, start, start + HOUR, [("service", inc.services[0])],
                                    PARTIALLY_UNAVAILABLE))
    # one on an environment only, one still open (no end)
    start = ANCHOR_MS - 40 * DAY + 2 * HOUR
    windows.append(_maintenance(cat, rng, start, start + 3 * HOUR, [("environment", 1)], UNAVAILABLE))
    windows.append(_maintenance(cat, rng, ANCHOR_MS - 3 * DAY + 3 * HOUR, None,
                                [("service", int(r() * n_services))], DEGRADED))
    windows.sort(key=lambda w: (w["created_at"], w["id"]))
    return windows


def _maintenance(cat: Catalogs, rng: random.Random, start: int, end: int | None,
                 targets: list[tuple[str, int]], condition: int) -> dict:
    impacts = []
    for kind, index in targets:
        catalog = cat.services if kind == "service" else cat.environments
        impacts.append({"id": uuid_str(rng.getrandbits(128)), "type": kind,
                        "impact": {"id": catalog[index]["id"], "name": catalog[index]["name"]},
                        "condition": dict(cat.conditions[condition])})
    created = start - (1 + int(13 * rng.random())) * DAY
    name = f"Planned maintenance of {impacts[0]['impact']['name']}"
    return {
        "id": uuid_str(rng.getrandbits(128)), "name": name, "summary": name,
        "description": "Scheduled work; the service may be unavailable while it runs.",
        "starts_at": iso(start), "ends_at": iso(end), "created_at": iso(created), "updated_at": iso(created),
        "labels": {"change": f"CHG-{int(9000 * rng.random()) + 1000}"}, "impacts": impacts,
        "incident": None, "status_pages": [],
    }


def generate_operations(cat: Catalogs, incidents: list[Incident], seed: int) -> dict[str, list]:
    rng = random.Random(f"operations:{seed}")
    return {
        "tickets": generate_tickets(cat, incidents, rng),
        "alerts": generate_alerts(cat, incidents, rng),
        "scheduled_maintenances": generate_maintenances(cat, incidents, rng),
    }
