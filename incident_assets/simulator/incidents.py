"""Incidents, change events and retrospectives, generated compact (`wire_format.py` renders them
as the API serves them, on demand).

Generation draws from `random.Random(f"incidents:{seed}")` only, so the same seed and count
give the same data. Child ids (milestones, assignments, impacts) derive from the incident's
own 128-bit base instead of extra rng draws, which keeps 100k incidents to a few seconds.
"""

from __future__ import annotations

import bisect
import calendar
import itertools
import math
import random

from incident_assets.simulator.catalogs import OPERATIONAL, PROBLEMS, TAGS, Catalogs
from incident_assets.simulator.common import ANCHOR_MS, DAY, HOUR, MINUTE, SPAN_MS, uuid_str

# The story the demo tells: in the last complete month before the anchor (October 2026), one
# service took three times as long to resolve its incidents and another resolved them four times
# faster. No random number is drawn for it, so every other incident stays as it was.
STORY_MONTH_MS = (calendar.timegm((2026, 10, 1, 0, 0, 0)) * 1000, ANCHOR_MS)
STORY_RESOLVE_FACTOR = {"fraud-detection": 3.0, "cdn-edge": 0.25}

LIFECYCLE = ["started", "detected", "acknowledged", "investigating", "identified", "mitigated",
             "resolved", "postmortem_started", "postmortem_completed", "closed"]
_POSITION = {m: i for i, m in enumerate(LIFECYCLE)}
INACTIVE_MILESTONES = {"resolved", "postmortem_started", "postmortem_completed", "closed"}

# severity slug (None = not set): (weight, median minutes from start to resolved,
# share of incidents with a `mitigated` milestone)
SEVERITY_PROFILE = {"SEV1": (3, 90, 0.9), "SEV2": (10, 120, 0.85), "SEV3": (30, 200, 0.7),
                    "SEV4": (28, 600, 0.5), "SEV5": (12, 1200, 0.4), "GAMEDAY": (3, 120, 0.5),
                    "MAINTENANCE": (5, 180, 0.5), "UNSET": (2, 360, 0.5), None: (7, 480, 0.5)}
_NEVER_FORGOTTEN = {"SEV1", "SEV2", "GAMEDAY", "MAINTENANCE"}
_SEV_SLUGS = list(SEVERITY_PROFILE)
_SEV_CUM = list(itertools.accumulate(p[0] for p in SEVERITY_PROFILE.values()))
_SEV_PRIORITY = {"SEV1": ["P1"], "SEV2": ["P1", "P2"], "SEV3": ["P2", "P3"], "SEV4": ["P3"],
                 "SEV5": ["P4"]}
# how an incident of each severity hurts a service: weights over catalogs.CONDITIONS
# (Major Outage, Unavailable, Partially Unavailable, Degraded, Bug, Operational)
_CONDITION_MIX = {"SEV1": (8, 52, 30, 10, 0, 0), "SEV2": (0, 25, 50, 25, 0, 0),
                  "SEV3": (0, 2, 15, 55, 28, 0), "SEV4": (0, 0, 1, 49, 50, 0),
                  "SEV5": (0, 0, 0, 30, 60, 10), "GAMEDAY": (0, 0, 50, 50, 0, 0),
                  "MAINTENANCE": (0, 30, 30, 40, 0, 0), "UNSET": (0, 0, 5, 50, 45, 0),
                  None: (0, 0, 5, 50, 45, 0)}
_CONDITION_CUM = {sev: list(itertools.accumulate(mix)) for sev, mix in _CONDITION_MIX.items()}
NO_IMPACT_ENTRY = -1  # a listed service nobody set a condition for
_ROLE_COMMANDER, _ROLE_COMMS, _ROLE_OPS = 0, 1, 2


class Incident:
    """Compact incident state; `wire_format.render_incident` builds the API dict.

    milestones: [child index, type, occurred_ms, created_ms, updated_ms];
    roles: [role index, user index, status, created_ms, updated_ms];
    services: catalog indexes, negative for ghost services absent from /services;
    conditions: per service, an index in catalogs.CONDITIONS, or NO_IMPACT_ENTRY;
    updated: the internal last-change time that `updated_after` filters on.
    """

    __slots__ = ("id", "base", "number", "name", "problem", "severity", "priority", "tags",
                 "created", "discarded", "milestones", "services", "envs", "funcs", "roles",
                 "teams", "creator", "report_id", "updated", "next_child", "impact_note",
                 "conditions")

    def current_milestone(self) -> str | None:
        ms = self.sorted_milestones()
        return ms[-1][1] if ms else None

    def sorted_milestones(self) -> list[list]:
        return sorted(self.milestones, key=lambda m: (m[2], _POSITION.get(m[1], 99)))

    def milestone_time(self, kind: str) -> int | None:
        times = [m[2] for m in self.milestones if m[1] == kind]
        return max(times) if times else None

    def new_child(self) -> int:
        """Index of a new child; its id is child_id(base, index), computed when rendered."""
        self.next_child += 1
        return self.next_child


class ChangeEvent:
    __slots__ = ("id", "number", "service", "env", "author", "starts", "ends", "created", "commit")


class Retrospective:
    __slots__ = ("id", "base", "incident_id", "name", "tags", "created", "updated")


def _start_time(rng: random.Random) -> int:
    """Weekday- and daytime-heavy start, within SPAN_MS before the anchor (a midnight)."""
    while True:
        day = rng.randrange(SPAN_MS // DAY)
        day_start = ANCHOR_MS - (day + 1) * DAY
        weekday = (day_start // DAY + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        if weekday < 5 or rng.random() < 0.3:
            break
    hour = rng.uniform(8, 19) if rng.random() < 0.75 else rng.uniform(0, 24)
    return day_start + int(hour * HOUR)


def _service_weights(rng: random.Random, n_services: int) -> list[float]:
    """Cumulative weights: a few services have most incidents, as in any real organisation."""
    return list(itertools.accumulate(rng.lognormvariate(0, 0.8) for _ in range(n_services)))


def _pick_services(rng: random.Random, cum: list[float]) -> list[int]:
    """The service that hurts most first (weighted), then 0-2 others hit along with it."""
    r, n = rng.random, len(cum)
    first = bisect.bisect(cum, r() * cum[-1])
    roll = r()
    extra = 0 if roll < 0.72 else (1 if roll < 0.94 else 2)
    services = [first]
    while len(services) < extra + 1:
        other = int(r() * n)
        if other not in services:
            services.append(other)
    return services


def _pick_conditions(rng: random.Random, sev: str | None, k: int) -> list[int]:
    """A condition per service; a service hit along with the first is often hurt less."""
    r, cum = rng.random, _CONDITION_CUM[sev]
    first = bisect.bisect(cum, r() * cum[-1])
    out = [first]
    for _ in range(k - 1):
        c = bisect.bisect(cum, r() * cum[-1])
        out.append(min(OPERATIONAL, c + 1) if r() < 0.5 else c)
    return out


def _milestones(rng: random.Random, sev: str | None, s: int, d: int) -> list[list]:
    """[type, occurred_ms] of one incident that started at s and took d to resolve."""
    r = rng.random
    p_mitigated = SEVERITY_PROFILE[sev][2]
    # in lifecycle order (detected, acknowledged, investigating, identified, mitigated, resolved)
    ms = [["started", s]]
    if r() < 0.55:  # detection is often not recorded
        ms.append(["detected", s + int(d * 0.02 * r())])
    ack = s + int(d * (0.02 + 0.1 * r()))
    if r() < 0.92:
        ms.append(["acknowledged", ack])
    if r() < 0.8:
        ms.append(["investigating", ack + int(d * 0.1 * r())])
    if r() < 0.7:
        ms.append(["identified", s + int(d * (0.22 + 0.2 * r()))])
    if r() < p_mitigated:
        ms.append(["mitigated", s + int(d * (0.45 + 0.5 * r()))])
    end = s + d
    ms.append(["resolved", end])
    if r() < 0.02:  # reopened, then resolved again
        end += int(d * (0.2 + 0.8 * r())) + 10 * MINUTE
        ms.append(["resolved", end])
    if sev in ("SEV1", "SEV2", "SEV3") and r() < 0.6:
        pm = end + int((0.5 + 2.5 * r()) * DAY)
        ms.append(["postmortem_started", pm])
        if r() < 0.8:
            pm += int((1 + 9 * r()) * DAY)
            ms.append(["postmortem_completed", pm])
            if r() < 0.7:
                ms.append(["closed", pm + int(2 * r() * DAY)])
    return ms


def _story_milestones(ms: list[list], service: str, s: int) -> list[list]:
    """`ms` of an incident started at s with its time to resolve multiplied per the story (never
    before its acknowledgement); the milestones after the resolution move with it, and none of
    those before it ends up after it."""
    factor = STORY_RESOLVE_FACTOR.get(service)
    resolved = [at for kind, at in ms if kind == "resolved"]
    if factor is None or not resolved or not STORY_MONTH_MS[0] <= s < STORY_MONTH_MS[1]:
        return ms
    last = max(resolved)
    floor = max(at for kind, at in ms if kind in ("started", "detected", "acknowledged"))
    scaled = lambda at: max(floor, s + int((at - s) * factor))  # noqa: E731
    end = scaled(last)
    return [[kind, at + end - last if at > last else scaled(at) if kind == "resolved" else min(at, end)]
            for kind, at in ms]


def _stamp_milestones(rng: random.Random, ms: list[list], created: int) -> list[list]:
    """[child index, type, occurred, created, updated]: recorded up to two minutes after they
    happened, a few backfilled at the end or edited hours to days later (one draw each)."""
    r = rng.random
    last = ms[-1][1]
    out = []
    for j, (kind, at) in enumerate(ms):
        roll = r()
        c = at + int(120_000 * roll)
        if c < created:
            c = created
        if roll < 0.05 and c < last:
            c = last  # backfilled at the end
        u = c + int((1 + (roll - 0.96) * 2975) * HOUR) if roll > 0.96 else c  # edited later
        out.append([j, kind, at, c if c < ANCHOR_MS else ANCHOR_MS, u if u < ANCHOR_MS else ANCHOR_MS])
    return out


def _roles(rng: random.Random, cat: Catalogs, team: int, ack: int, d: int) -> list[list]:
    r, members = rng.random, cat.team_members[team]
    pick = lambda xs: xs[int(r() * len(xs))]  # noqa: E731
    roles = [[_ROLE_COMMANDER, pick(members), "active", ack, ack]]
    if r() < 0.1:  # command handed over
        hand = min(ack + int(d * 0.3), ANCHOR_MS)
        roles[0][2], roles[0][4] = "inactive", hand
        roles.append([_ROLE_COMMANDER, pick(members), "active", hand, hand])
    if r() < 0.5:
        roles.append([_ROLE_COMMS, int(r() * len(cat.users)), "active", ack, ack])
    if r() < 0.3:
        roles.append([_ROLE_OPS, pick(members), "active", ack, ack])
    return roles


def _generate_one(rng: random.Random, cat: Catalogs, service_cum: list[float]) -> Incident:
    r = rng.random
    inc = Incident()
    inc.base = rng.getrandbits(128)
    inc.id = uuid_str(inc.base)
    sev = _SEV_SLUGS[bisect.bisect(_SEV_CUM, r() * _SEV_CUM[-1])]
    inc.severity = sev
    priorities = _SEV_PRIORITY.get(sev, ("P2", "P3", "P4"))
    inc.priority = None if r() < 0.2 else priorities[int(r() * len(priorities))]
    svcs = inc.services = _pick_services(rng, service_cum)
    inc.conditions = _pick_conditions(rng, sev, len(svcs))
    inc.envs = [0] if r() < 0.85 else [1 + int(r() * (len(cat.environments) - 1))]
    funcs = cat.service_funcs[svcs[0]]
    inc.funcs = [funcs[int(r() * len(funcs))]] if funcs and r() < 0.4 else []
    inc.problem = int(r() * len(PROBLEMS))
    roll, n_tags = r(), len(TAGS)
    inc.tags = [] if roll < 0.25 else sorted({TAGS[int(r() * n_tags)] for _ in range(1 if roll < 0.75 else 2)})
    inc.impact_note = r() < 0.6
    s = _start_time(rng)
    median = SEVERITY_PROFILE[sev][1] * MINUTE
    d = max(5 * MINUTE, int(median * math.exp(0.9 * rng.gauss())))  # log-normal, heavy-tailed
    ms = _story_milestones(_milestones(rng, sev, s, d), cat.services[svcs[0]]["name"], s)
    if len(svcs) > 1 and d <= 3 * HOUR and r() < 0.05:
        inc.conditions[-1] = NO_IMPACT_ENTRY  # added to the incident, impact never set
    if r() < 0.015 and len(ms) > 2:  # milestones need not be in order (after `started`)
        ms[1][1], ms[2][1] = ms[2][1], ms[1][1]
    ms = [m for m in ms if m[1] <= ANCHOR_MS]  # what had happened by the anchor
    created = s + int(3 * MINUTE * r()) if r() > 0.04 else s + int((1 + 71 * r()) * HOUR)
    inc.created = min(created, ANCHOR_MS)
    inc.milestones = _stamp_milestones(rng, ms, inc.created)
    inc.next_child = 100  # ids below are reserved for the generated children

    owner = cat.service_owner[svcs[0]]
    n_teams = len(cat.teams)
    team = owner if owner is not None else int(r() * n_teams)
    inc.teams = [team] if r() < 0.7 else [team, (team + 1 + int(r() * (n_teams - 1))) % n_teams]
    ack = min(inc.milestone_time("acknowledged") or s + int(d * 0.05), ANCHOR_MS)
    inc.roles = _roles(rng, cat, team, ack, d)
    members = cat.team_members[team]
    inc.creator = members[int(r() * len(members))]
    inc.discarded = None
    resolved = inc.milestone_time("resolved")
    if resolved is not None and resolved < ANCHOR_MS - 30 * DAY and r() < 0.02:
        inc.discarded = min(ANCHOR_MS, max(m[4] for m in inc.milestones) + int((1 + 19 * r()) * DAY))
    inc.report_id = None
    return inc


def _touch(inc: Incident) -> None:
    inc.updated = max([inc.created, inc.discarded or 0] + [m[4] for m in inc.milestones]
                      + [x[4] for x in inc.roles])


def _leave_open(inc: Incident) -> None:
    """Nobody resolved it (yet): the fix, if there was one, shows as `mitigated`."""
    if not any(m[1] == "mitigated" for m in inc.milestones):
        for m in [m for m in inc.milestones if m[1] == "resolved"][:1]:
            m[1] = "mitigated"
    inc.milestones = [m for m in inc.milestones if m[1] not in INACTIVE_MILESTONES]
    inc.discarded = None


def _leave_some_open(incidents: list[Incident]) -> None:
    """Incidents sorted by start. The newest are still being worked on at the anchor (so even a
    small dataset has open incidents, as a live organisation always does), and about one
    incident in 400, a minor one, was forgotten long ago: stale, as a data-quality report flags."""
    newest = max(2, len(incidents) // 250)
    for inc in incidents[-newest:]:
        _leave_open(inc)
    old_enough = len(incidents) - 20 * newest  # well before the newest
    for k in range(100, old_enough - 200, 400):
        k += incidents[k].base % 200  # not at a regular step
        minor = next((inc for inc in incidents[k:k + 20] if inc.severity not in _NEVER_FORGOTTEN), None)
        if minor is not None:
            _leave_open(minor)


def generate_incidents(cat: Catalogs, count: int, seed: int) -> tuple[list[Incident], list[Retrospective]]:
    rng = random.Random(f"incidents:{seed}")
    service_cum = _service_weights(rng, len(cat.services))
    incidents = [_generate_one(rng, cat, service_cum) for _ in range(count)]

    # a few incidents name services that /services does not list (deleted or never synced)
    for i in range(0, count, 331):
        inc = incidents[i]
        inc.services = inc.services + [-1 - (i // 331) % len(cat.ghosts)]
        inc.conditions = inc.conditions + [inc.conditions[0]]

    incidents.sort(key=lambda x: (x.milestones[0][2], x.id))  # numbered in start order
    _leave_some_open(incidents)
    for n, inc in enumerate(incidents, 1):
        inc.number = n
        inc.name = f"{cat.services[inc.services[0]]['name']}: {PROBLEMS[inc.problem]}"
        _touch(inc)
    incidents.sort(key=lambda x: (x.created, x.id))  # served in creation order

    retros = []
    for inc in incidents:
        pm = inc.milestone_time("postmortem_started")
        if pm is None:
            continue
        rt = Retrospective()
        rt.base = rng.getrandbits(128)
        rt.id = uuid_str(rt.base)
        rt.incident_id, rt.name, rt.tags = inc.id, f"Retrospective: {inc.name}", inc.tags
        rt.created = pm
        done = inc.milestone_time("postmortem_completed")
        edited_later = int(rng.uniform(1, 30) * DAY) if rng.random() < 0.05 else 0
        rt.updated = min(ANCHOR_MS, (done or pm + int(rng.uniform(1, 48) * HOUR)) + edited_later)
        inc.report_id = rt.id
        retros.append(rt)
    retros.sort(key=lambda x: (x.created, x.id))
    return incidents, retros


def generate_change_events(cat: Catalogs, incidents: list[Incident], seed: int) -> list[ChangeEvent]:
    """About one change event per incident; ~30% land on an incident's service shortly before it."""
    rng = random.Random(f"changes:{seed}")
    events = []
    for inc in incidents:
        ev = ChangeEvent()
        ev.id = uuid_str(rng.getrandbits(128))
        if rng.random() < 0.3 and inc.services[0] >= 0:
            ev.service, ev.env = inc.services[0], inc.envs[0]
            ev.starts = inc.milestones[0][2] - rng.randint(5, 120) * MINUTE
        else:
            ev.service, ev.env = rng.randrange(len(cat.services)), 0 if rng.random() < 0.7 else 1
            ev.starts = _start_time(rng)
        ev.ends = None if rng.random() < 0.1 else ev.starts + rng.randint(1, 30) * MINUTE
        ev.created = ev.ends or ev.starts
        ev.author = rng.randrange(len(cat.users))
        ev.commit = "%07x" % rng.getrandbits(28)
        events.append(ev)
    events.sort(key=lambda x: (x.created, x.id))
    for n, ev in enumerate(events, 1):
        ev.number = n
    return events
