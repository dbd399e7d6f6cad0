"""Incidents, change events and retrospectives as the API serves them: the JSON-ready dicts
rendered from the compact records of `incidents.py`."""

from __future__ import annotations

from incident_assets.simulator.catalogs import DEGRADED, PROBLEMS, Catalogs
from incident_assets.simulator.common import child_id, iso, iso_duration
from incident_assets.simulator.incidents import (
    INACTIVE_MILESTONES, NO_IMPACT_ENTRY, ChangeEvent, Incident, Retrospective)

_RETRO_QUESTIONS = [("What went well?", "Alerting fired quickly and the on-call engaged."),
                    ("What could be improved?", "The runbook was out of date."),
                    ("Where did we get lucky?", "Traffic was low at the time.")]


def _impacts(cat: Catalogs, inc: Incident, services: list[dict], others: list[dict]) -> list[dict]:
    """One entry per service with its own condition (none for a service nobody set one for);
    environments and functionalities take the incident's worst condition."""
    entries = [("service", x, c) for x, c in zip(services, inc.conditions) if c != NO_IMPACT_ENTRY]
    worst = min((c for _, _, c in entries), default=DEGRADED)
    n_envs = len(inc.envs)
    entries += [("environment" if k < n_envs else "functionality", x, worst) for k, x in enumerate(others)]
    return [{"id": child_id(inc.base, 50 + k), "type": t, "impact": x, "condition": cat.conditions[c]}
            for k, (t, x, c) in enumerate(entries)]


def render_incident(cat: Catalogs, inc: Incident) -> dict:
    ms = inc.sorted_milestones()
    milestones = []
    for i, (k, kind, at, created, updated) in enumerate(ms):
        nxt = ms[i + 1][2] if i + 1 < len(ms) else None
        milestones.append({"id": child_id(inc.base, k), "type": kind, "occurred_at": iso(at),
                           "duration": None if nxt is None else iso_duration(nxt - at),
                           "created_at": iso(created), "updated_at": iso(updated)})
    current = ms[-1][1] if ms else None
    services = [cat.service_succinct(s) for s in inc.services]
    envs = [{"id": cat.environments[e]["id"], "name": cat.environments[e]["name"]} for e in inc.envs]
    funcs = [{"id": cat.functionalities[f]["id"], "name": cat.functionalities[f]["name"]} for f in inc.funcs]
    impacts = _impacts(cat, inc, services, envs + funcs)
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
