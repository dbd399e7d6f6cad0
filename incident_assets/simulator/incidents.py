"""Incidents, change events and retrospectives: generated compact, rendered to API dicts on demand.

Generation draws from `random.Random(f"incidents:{seed}")` only, so the same seed and count
give the same data. Child ids (milestones, assignments, impacts) derive from the incident's
own 128-bit base instead of extra rng draws, which keeps 100k incidents to a few seconds.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random

from incident_assets.simulator.catalogs import PROBLEMS, TAGS, Catalogs
from incident_assets.simulator.common import (
    ANCHOR_MS, DAY, HOUR, MINUTE, SPAN_MS, child_id, iso, iso_duration, uuid_str)

LIFECYCLE = ["started", "detected", "acknowledged", "investigating", "identified", "mitigated",
             "resolved", "postmortem_started", "postmortem_completed", "closed"]
_POSITION = {m: i for i, m in enumerate(LIFECYCLE)}
INACTIVE_MILESTONES = {"resolved", "postmortem_started", "postmortem_completed", "closed"}

# severity slug (None = not set): (weight, median duration in minutes)
SEVERITY_PROFILE = {"SEV1": (3, 45), "SEV2": (10, 90), "SEV3": (30, 180), "SEV4": (28, 480),
                    "SEV5": (12, 1440), "GAMEDAY": (3, 120), "MAINTENANCE": (5, 240),
                    "UNSET": (2, 300), None: (7, 360)}
_SEV_SLUGS = list(SEVERITY_PROFILE)
_SEV_CUM = list(itertools.accumulate(w for w, _ in SEVERITY_PROFILE.values()))
_SEV_PRIORITY = {"SEV1": ["P1"], "SEV2": ["P1", "P2"], "SEV3": ["P2", "P3"], "SEV4": ["P3"],
                 "SEV5": ["P4"]}
_SEV_CONDITION = {"SEV1": 0, "SEV2": 1, "SEV3": 2, "SEV4": 3, "SEV5": 3}  # index in CONDITIONS
_ROLE_COMMANDER, _ROLE_COMMS, _ROLE_OPS = 0, 1, 2
_RETRO_QUESTIONS = [("What went well?", "Alerting fired quickly and the on-call engaged."),
                    ("What could be improved?", "The runbook was out of date."),
                    ("Where did we get lucky?", "Traffic was low at the time.")]


class Incident:
    """Compact incident state; `render_incident` builds the API dict.

    milestones: [child index, type, occurred_ms, created_ms, updated_ms];
    roles: [role index, user index, status, created_ms, updated_ms];
    services: catalog indexes, negative for ghost services absent from /services;
    updated: the internal last-change time that `updated_after` filters on.
    """

    __slots__ = ("id", "base", "number", "name", "problem", "severity", "priority", "tags",
                 "created", "discarded", "milestones", "services", "envs", "funcs", "roles",
                 "teams", "creator", "report_id", "updated", "next_child", "impact_note")

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


def generate_incidents(cat: Catalogs, count: int, seed: int) -> tuple[list[Incident], list[Retrospective]]:
    rng = random.Random(f"incidents:{seed}")
    r, uni, n_services, n_envs = rng.random, rng.uniform, len(cat.services), len(cat.environments)
    incidents: list[Incident] = []
    for _ in range(count):
        inc = Incident()
        inc.base = rng.getrandbits(128)
        inc.id = uuid_str(inc.base)
        sev = _SEV_SLUGS[bisect.bisect(_SEV_CUM, r() * _SEV_CUM[-1])]
        inc.severity = sev
        inc.priority = None if r() < 0.2 else rng.choice(_SEV_PRIORITY.get(sev, ["P2", "P3", "P4"]))
        k = 1 if r() < 0.7 else (2 if r() < 0.73 else 3)
        svcs = rng.sample(range(n_services), k)
        inc.services = svcs
        inc.envs = [0] if r() < 0.85 else [rng.randrange(1, n_envs)]
        funcs = cat.service_funcs[svcs[0]]
        inc.funcs = [rng.choice(funcs)] if funcs and r() < 0.4 else []
        inc.problem = rng.randrange(len(PROBLEMS))
        inc.tags = sorted(rng.sample(TAGS, rng.choice((0, 1, 1, 2))))
        inc.impact_note = r() < 0.6
        s = _start_time(rng)
        median = SEVERITY_PROFILE[sev][1] * MINUTE
        d = max(MINUTE, int(rng.lognormvariate(math.log(median), 0.9)))

        ms = [["started", s]]
        if r() > 0.3:
            ms.append(["detected", s + int(d * uni(0.0, 0.08))])
        ack = s + int(d * uni(0.02, 0.15))
        if r() < 0.9:
            ms.append(["acknowledged", ack])
        if r() < 0.8:
            ms.append(["investigating", ack + int(d * uni(0.0, 0.1))])
        if r() < 0.7:
            ms.append(["identified", s + int(d * uni(0.2, 0.6))])
        if r() < 0.6:
            ms.append(["mitigated", s + int(d * uni(0.6, 0.95))])
        end = s + d
        ms.append(["resolved", end])
        if r() < 0.03:  # reopened, then resolved again
            end += int(d * uni(0.2, 1.0)) + 10 * MINUTE
            ms.append(["resolved", end])
        if sev in ("SEV1", "SEV2", "SEV3") and r() < 0.6:
            pm = end + int(uni(0.5, 3) * DAY)
            ms.append(["postmortem_started", pm])
            if r() < 0.8:
                pm += int(uni(1, 10) * DAY)
                ms.append(["postmortem_completed", pm])
                if r() < 0.7:
                    ms.append(["closed", pm + int(uni(0, 2) * DAY)])
        if r() < 0.03:  # stale: never resolved
            ms = [m for m in ms if _POSITION[m[0]] < _POSITION["resolved"]]
        if r() < 0.02 and len(ms) > 2:  # milestones need not be in order (after `started`)
            ms[1][1], ms[2][1] = ms[2][1], ms[1][1]
        ms = [m for m in ms if m[1] <= ANCHOR_MS]  # what had happened by the anchor

        created = s + int(uni(0, 3) * MINUTE) if r() > 0.04 else s + int(uni(1, 72) * HOUR)
        inc.created = min(created, ANCHOR_MS)
        milestones = []
        for j, (kind, at) in enumerate(ms):
            c = max(inc.created, at + int(uni(0, 120_000)))
            roll = r()
            if roll < 0.05:
                c = max(c, ms[-1][1])  # backfilled at the end
            u = c + int(uni(1, 120) * HOUR) if roll > 0.96 else c  # edited later
            milestones.append([j, kind, at, min(c, ANCHOR_MS), min(u, ANCHOR_MS)])
        inc.milestones = milestones
        inc.next_child = 100  # ids below are reserved for the generated children

        owner = cat.service_owner[svcs[0]]
        team = owner if owner is not None else rng.randrange(len(cat.teams))
        inc.teams = [team] if r() < 0.7 else [team, (team + 1 + rng.randrange(len(cat.teams) - 1)) % len(cat.teams)]
        members = cat.team_members[team]
        ack_at = min(ack, ANCHOR_MS)
        roles = [[_ROLE_COMMANDER, rng.choice(members), "active", ack_at, ack_at]]
        if r() < 0.1:  # command handed over
            hand = min(ack_at + int(d * 0.3), ANCHOR_MS)
            roles[0][2], roles[0][4] = "inactive", hand
            roles.append([_ROLE_COMMANDER, rng.choice(members), "active", hand, hand])
        if r() < 0.5:
            roles.append([_ROLE_COMMS, rng.randrange(len(cat.users)), "active", ack_at, ack_at])
        if r() < 0.3:
            roles.append([_ROLE_OPS, rng.choice(members), "active", ack_at, ack_at])
        inc.roles = roles
        inc.creator = rng.choice(members)
        inc.discarded = None
        resolved = inc.milestone_time("resolved")
        if resolved is not None and resolved < ANCHOR_MS - 30 * DAY and r() < 0.02:
            inc.discarded = min(ANCHOR_MS, max(m[4] for m in milestones) + int(uni(1, 20) * DAY))
        inc.report_id = None
        inc.updated = max([inc.created, inc.discarded or 0] + [m[4] for m in milestones] + [x[4] for x in roles])
        incidents.append(inc)

    # a few incidents name services that /services does not list (deleted or never synced)
    for i in range(0, count, 331):
        incidents[i].services = incidents[i].services + [-1 - (i // 331) % len(cat.ghosts)]

    incidents.sort(key=lambda x: (x.milestones[0][2], x.id))  # numbered in start order
    for n, inc in enumerate(incidents, 1):
        inc.number = n
        inc.name = f"{cat.services[inc.services[0]]['name']}: {PROBLEMS[inc.problem]}"
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
        rt.updated = min(ANCHOR_MS, (done or pm + int(uni(1, 48) * HOUR)) + (int(uni(1, 30) * DAY) if r() < 0.05 else 0))
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


def _succinct(cat: Catalogs, s: int) -> dict:
    if s < 0:
        return dict(cat.ghosts[-1 - s])
    return {"id": cat.services[s]["id"], "name": cat.services[s]["name"]}


def render_incident(cat: Catalogs, inc: Incident) -> dict:
    ms = inc.sorted_milestones()
    milestones = []
    for i, (k, kind, at, created, updated) in enumerate(ms):
        nxt = ms[i + 1][2] if i + 1 < len(ms) else None
        milestones.append({"id": child_id(inc.base, k), "type": kind, "occurred_at": iso(at),
                           "duration": None if nxt is None else iso_duration(nxt - at),
                           "created_at": iso(created), "updated_at": iso(updated)})
    current = ms[-1][1] if ms else None
    services = [_succinct(cat, s) for s in inc.services]
    envs = [{"id": cat.environments[e]["id"], "name": cat.environments[e]["name"]} for e in inc.envs]
    funcs = [{"id": cat.functionalities[f]["id"], "name": cat.functionalities[f]["name"]} for f in inc.funcs]
    cond = cat.conditions[_SEV_CONDITION.get(inc.severity, 2)]
    impacts = [{"id": child_id(inc.base, 50 + k), "type": t, "impact": x, "condition": cond}
               for k, (t, x) in enumerate([("service", s) for s in services]
                                          + [("environment", e) for e in envs]
                                          + [("functionality", f) for f in funcs])]
    roles = []
    for k, (role, user, status, created, updated) in enumerate(inc.roles):
        ro, us = cat.incident_roles[role], cat.users[user]
        roles.append({"id": child_id(inc.base, 30 + k), "status": status,
                      "incident_role": {"id": ro["id"], "name": ro["name"]},
                      "user": {"id": us["id"], "name": us["name"], "email": us["email"]},
                      "created_at": iso(created), "updated_at": iso(updated)})
    started = inc.milestones[0][2] if inc.milestones else inc.created
    teams = [{"id": child_id(inc.base, 40 + k), "status": "active", "team": cat.team_lite(t),
              "created_at": iso(max(started, inc.created)), "updated_at": iso(max(started, inc.created))}
             for k, t in enumerate(inc.teams)]
    problem = PROBLEMS[inc.problem]
    return {
        "id": inc.id, "number": inc.number, "name": inc.name,
        "summary": f"{problem.capitalize()} affecting {services[0]['name']}.",
        "description": f"On-call was paged for {problem} on {services[0]['name']}.",
        "customer_impact_summary": f"Some customers saw {problem}." if inc.impact_note else None,
        "active": current not in INACTIVE_MILESTONES, "current_milestone": current,
        "severity": inc.severity, "severity_color": cat.severity_color.get(inc.severity),
        "priority": inc.priority, "tag_list": list(inc.tags), "labels": {}, "custom_fields": [],
        "created_at": iso(inc.created), "started_at": iso(started), "discarded_at": iso(inc.discarded),
        "milestones": milestones, "services": services, "environments": envs,
        "functionalities": funcs, "impacts": impacts, "role_assignments": roles,
        "team_assignments": teams, "created_by": cat.author(inc.creator),
        "organization": dict(cat.org),
        "incident_url": f"https://app.firehydrant.io/incidents/{inc.id}",
        "report_id": inc.report_id,
    }


def render_change_event(cat: Catalogs, ev: ChangeEvent, env_render) -> dict:
    svc = cat.services[ev.service]
    dur = None if ev.ends is None else ev.ends - ev.starts
    return {
        "id": ev.id, "summary": f"Deploy {svc['name']} {ev.commit}",
        "description": f"Deployed commit {ev.commit} of {svc['name']}.",
        "external_id": f"deploy-{ev.number}",
        "created_at": iso(ev.created), "updated_at": iso(ev.created),
        "starts_at": iso(ev.starts), "ends_at": iso(ev.ends),
        "duration_ms": dur, "duration_iso8601": None if dur is None else iso_duration(dur),
        "environments": [env_render(ev.env)], "authors": [cat.author(ev.author, "github")],
        "labels": {"repository": f"acme/{svc['name']}", "commit": ev.commit},
        "services": [cat.service_lite(ev.service)],
    }


def render_retrospective(rt: Retrospective) -> dict:
    return {
        "id": rt.id, "name": rt.name, "summary": "What happened, why, and what we changed.",
        "incident_id": rt.incident_id, "created_at": iso(rt.created), "updated_at": iso(rt.updated),
        "tag_list": list(rt.tags), "additional_details": [],
        "questions": [{"id": child_id(rt.base, k), "title": title, "body": body, "tooltip": "",
                       "kind": "text", "is_required": k == 0, "available_options": []}
                      for k, (title, body) in enumerate(_RETRO_QUESTIONS)],
    }
