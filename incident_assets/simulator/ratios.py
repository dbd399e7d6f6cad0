"""`messy=True`, second half: the list sizes of a real account, per incident.

About 1.2 tickets (most incidents get a ticket of their own in the tracker, besides the
follow-ups of their retrospective), 1 alert (the monitors that paged, a little unlinked noise),
a third of a change event, and a retrospective for most SEV1/SEV2 incidents. The tidy data
(`messy` off) keeps its own ratios: the demo and the golden tests are built on them.

Drawn from `random.Random(f"ratios:{seed}")` after everything else, so the incidents a seed
gives are the same ones, only their `report_id` filled in where a retrospective is added.
"""

from __future__ import annotations

import random

from incident_assets.simulator.catalogs import Catalogs
from incident_assets.simulator.common import ANCHOR_MS, DAY, HOUR, uuid_str
from incident_assets.simulator.incidents import Incident, Retrospective
from incident_assets.simulator.operations import Alert, Ticket, _ticket

TICKETS_PER_INCIDENT = 1.2
ALERTS_PER_INCIDENT = 1.0
CHANGE_EVENTS_PER_INCIDENT = 1 / 3
RETROSPECTIVE_SHARE = {"SEV1": 0.95, "SEV2": 0.8}


def real_account_ratios(cat: Catalogs, lists: dict[str, list], seed: int) -> None:
    """Resizes the incident-driven lists of `lists` in place to a real account's ratios."""
    rng = random.Random(f"ratios:{seed}")
    incidents: list[Incident] = lists["incidents"]
    n = len(incidents)
    lists["change_events"] = thinned(lists["change_events"], CHANGE_EVENTS_PER_INCIDENT * n, rng)
    lists["alerts"] = fewer_alerts(lists["alerts"], ALERTS_PER_INCIDENT * n, rng)
    lists["tickets"] = more_tickets(cat, incidents, lists["tickets"], TICKETS_PER_INCIDENT * n, rng)
    lists["retrospectives"] = more_retrospectives(incidents, lists["retrospectives"], rng)


def thinned(records: list, target: float, rng: random.Random) -> list:
    """About `target` of `records`, keeping their order."""
    share = min(1.0, target / max(1, len(records)))
    return [r for r in records if rng.random() < share]


def fewer_alerts(alerts: list[Alert], target: float, rng: random.Random) -> list[Alert]:
    """One alert per paged incident (the first monitor that tripped), unlinked noise for the rest."""
    paged: set[str] = set()
    linked = []
    for a in alerts:
        if a.incident is not None and a.incident.id not in paged:
            paged.add(a.incident.id)
            linked.append(a)
    noise = thinned([a for a in alerts if a.incident is None], max(0.0, target - len(linked)), rng)
    kept = {id(a) for a in linked + noise}
    return [a for a in alerts if id(a) in kept]  # serving order unchanged


def more_tickets(cat: Catalogs, incidents: list[Incident], tickets: list[Ticket], target: float,
                 rng: random.Random) -> list[Ticket]:
    """The follow-ups, plus the incident's own ticket (`type: incident`) for enough incidents."""
    share = min(1.0, max(0.0, target - len(tickets)) / max(1, len(incidents)))
    out = list(tickets)
    for inc in incidents:
        if rng.random() < share:
            created = min(ANCHOR_MS, inc.created + int(rng.uniform(1, 30) * 60_000))
            out.append(_ticket(rng, cat, "incident", created, inc, inc.teams[0], None))
    out.sort(key=lambda t: (t.created, t.id))
    return out


def more_retrospectives(incidents: list[Incident], retros: list[Retrospective],
                        rng: random.Random) -> list[Retrospective]:
    """A retrospective for most resolved SEV1/SEV2 incidents (the tidy data has fewer)."""
    out = list(retros)
    for inc in incidents:
        share = RETROSPECTIVE_SHARE.get(inc.severity or "")
        resolved = inc.milestone_time("resolved")
        if share is None or inc.report_id is not None or resolved is None:
            continue
        # the tidy data's share is about 0.55: top it up to `share`
        if rng.random() >= (share - 0.55) / 0.45:
            continue
        rt = Retrospective()
        rt.base = rng.getrandbits(128)
        rt.id = uuid_str(rt.base)
        rt.incident_id, rt.name, rt.tags = inc.id, f"Retrospective: {inc.name}", inc.tags
        rt.created = min(ANCHOR_MS, resolved + int(rng.uniform(1, 72) * HOUR))
        rt.updated = min(ANCHOR_MS, rt.created + int(rng.uniform(1, 10) * DAY))
        inc.report_id = rt.id
        out.append(rt)
    out.sort(key=lambda x: (x.created, x.id))
    return out
