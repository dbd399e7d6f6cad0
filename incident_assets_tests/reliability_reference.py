"""An independent, pure-Python computation of the headline reliability numbers.

Works on incident dicts as the API serves them (not on the loaded tables) and follows the
metric definitions directly, without sharing anything with the report SQL, so that
comparing the two catches errors in either. Covers incident_facts-level fields, MTTR
p50/p90 per month and severity, open backlog counts, and impact-weighted downtime (by a
sweep over each service's time line, where the SQL sums weight levels).
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, Optional

EXCLUDED = ("GAMEDAY", "MAINTENANCE")
FIRST = ("started", "detected", "acknowledged", "identified", "mitigated", "postmortem_completed")
RETRO = ("postmortem_started", "postmortem_completed", "closed")
WEIGHTS = {"unavailable": 1.0, "partially unavailable": 0.3, "degraded": 0.0, "bug": 0.0, "operational": 0.0}


def parse(value: Optional[str]) -> Optional[datetime]:
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def percentile(values: list[float], q: float) -> Optional[float]:
    """Continuous percentile with linear interpolation (percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def month_of(moment: datetime) -> date:
    return date(moment.year, moment.month, 1)


def facts(incident: dict[str, Any], as_of: datetime, excluded: Iterable[str] = EXCLUDED) -> dict[str, Any]:
    times: dict[str, list[datetime]] = defaultdict(list)
    for m in incident.get("milestones") or []:
        if m.get("occurred_at"):
            times[m["type"]].append(parse(m["occurred_at"]))
    at = {kind: min(times[kind]) if times[kind] else None for kind in FIRST}
    at["resolved"] = max(times["resolved"]) if times["resolved"] else None
    if at["resolved"] is None:
        retro = [t for kind in RETRO for t in times[kind]]
        at["resolved"] = min(retro) if retro else None
    started = at["started"] or parse(incident.get("started_at")) or parse(incident["created_at"])
    out: dict[str, Any] = {"incident_id": incident["id"], "severity": incident.get("severity"),
                           "started_at": started, "resolved_at": at["resolved"]}
    negative = False

    def since_start(end: Optional[datetime]) -> Optional[float]:
        nonlocal negative
        if end is None:
            return None
        seconds = (end - started).total_seconds()
        if seconds < 0:
            negative = True
            return None
        return seconds

    for metric, kind in (("detect", "detected"), ("acknowledge", "acknowledged"),
                         ("mitigate", "mitigated"), ("resolve", "resolved")):
        out[f"seconds_to_{metric}"] = since_start(at[kind])
        out[f"{kind}_at"] = at[kind]
    out["impact_seconds"] = since_start(at["mitigated"] or at["resolved"])
    out["has_negative_duration"] = negative
    out["is_open"] = at["resolved"] is None
    out["age_seconds"] = (as_of - started).total_seconds() if out["is_open"] else None
    out["is_archived"] = incident.get("discarded_at") is not None
    if out["is_archived"]:
        out["exclusion_reason"] = "archived"
    elif incident.get("severity") in set(excluded):
        out["exclusion_reason"] = f"severity:{incident['severity']}"
    else:
        out["exclusion_reason"] = None
    out["is_reportable"] = out["exclusion_reason"] is None
    return out


def mttr_by_month_and_severity(incidents: Iterable[dict[str, Any]], as_of: datetime,
                               excluded: Iterable[str] = EXCLUDED) -> dict[tuple[date, str], dict[str, Any]]:
    """(month, severity or 'none' or 'all') -> {n, n_missing, p50_seconds, p90_seconds}."""
    groups: dict[tuple[date, str], list[Optional[float]]] = defaultdict(list)
    for incident in incidents:
        f = facts(incident, as_of, excluded)
        if not f["is_reportable"]:
            continue
        month = month_of(f["started_at"])
        for key in (f["severity"] or "none", "all"):
            groups[(month, key)].append(f["seconds_to_resolve"])
    result = {}
    for key, values in groups.items():
        present = [v for v in values if v is not None]
        result[key] = {"n": len(present), "n_missing": len(values) - len(present),
                       "p50_seconds": percentile(present, 0.5), "p90_seconds": percentile(present, 0.9)}
    return result


def open_backlog_counts(incidents: Iterable[dict[str, Any]], as_of: datetime,
                        excluded: Iterable[str] = EXCLUDED) -> dict[str, int]:
    """severity (or 'none') -> open reportable incidents started by as_of; 'all' always present."""
    counts: dict[str, int] = {"all": 0}
    for incident in incidents:
        f = facts(incident, as_of, excluded)
        if f["is_reportable"] and f["is_open"] and f["started_at"] <= as_of:
            severity = f["severity"] or "none"
            counts[severity] = counts.get(severity, 0) + 1
            counts["all"] += 1
    return counts


# --- impact-weighted downtime ---------------------------------------------------------------

def condition_weight(condition: Optional[dict[str, Any]], weights: Mapping[str, float] = WEIGHTS) -> float:
    condition = condition or {}
    name = (condition.get("name") or "").strip(" ").lower()
    if name in weights:
        return weights[name]
    return {0: 1.0, 1: 0.3}.get(condition.get("position"), 0.0)


def service_weights(incident: dict[str, Any], weights: Mapping[str, float] = WEIGHTS) -> dict[str, float]:
    """Listed service -> the highest weight of its impact entries, 1.0 without any."""
    result = {}
    for service in {s["id"] for s in incident.get("services") or [] if s.get("id")}:
        entries = [condition_weight(e.get("condition"), weights) for e in incident.get("impacts") or []
                   if e.get("type") == "service" and (e.get("impact") or {}).get("id") == service]
        result[service] = max(entries) if entries else 1.0
    return result


def _month_starts(first: datetime, last: datetime) -> list[datetime]:
    starts, month = [], datetime(first.year, first.month, 1, tzinfo=timezone.utc)
    while month <= last:
        starts.append(month)
        month = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=timezone.utc)
    return starts


def timelines(incidents: Iterable[dict[str, Any]], maintenances: Iterable[dict[str, Any]], as_of: datetime,
              weights: Mapping[str, float] = WEIGHTS, cuts: Iterable[datetime] = ()
              ) -> dict[str, list[tuple[datetime, datetime, bool, float, bool]]]:
    """service -> its time line as segments (start, end, any incident open, highest weight,
    under maintenance), cut at month starts and at `cuts` so that no segment straddles them."""
    impacts: dict[str, list[tuple[datetime, datetime, float]]] = defaultdict(list)
    for incident in incidents:
        f = facts(incident, as_of)
        if not f["is_reportable"]:
            continue
        end = min(f["mitigated_at"] or f["resolved_at"] or as_of, as_of)
        for service, weight in service_weights(incident, weights).items():
            if end > f["started_at"]:
                impacts[service].append((f["started_at"], end, weight))
    windows: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for m in maintenances:
        start, end = parse(m.get("starts_at")), parse(m.get("ends_at"))
        if start is None or end is None or min(end, as_of) <= start:
            continue
        for target in m.get("impacts") or []:
            if target.get("type") == "service" and (target.get("impact") or {}).get("id"):
                windows[target["impact"]["id"]].append((start, min(end, as_of)))
    result = {}
    for service in set(impacts) | set(windows):
        spans = [(s, e) for s, e, _ in impacts[service]] + windows[service]
        first, last = min(s for s, _ in spans), max(e for _, e in spans)
        points = sorted({p for span in spans for p in span} | set(_month_starts(first, last)) | set(cuts))
        segments = []
        for a, b in zip(points, points[1:]):
            open_weights = [w for s, e, w in impacts[service] if s <= a and e >= b]
            maintained = any(s <= a and e >= b for s, e in windows[service])
            segments.append((a, b, bool(open_weights), max(open_weights, default=0.0), maintained))
        result[service] = segments
    return result


def _minutes(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 60


def availability_minutes(incidents: Iterable[dict[str, Any]], maintenances: Iterable[dict[str, Any]],
                         as_of: datetime, weights: Mapping[str, float] = WEIGHTS
                         ) -> dict[tuple[str, date], dict[str, float]]:
    """(service, month) -> incident_minutes, impact_minutes, maintenance_minutes (up to as_of)."""
    result: dict[tuple[str, date], dict[str, float]] = defaultdict(
        lambda: {"incident_minutes": 0.0, "impact_minutes": 0.0, "maintenance_minutes": 0.0})
    for service, segments in timelines(incidents, maintenances, as_of, weights).items():
        for a, b, any_open, weight, maintained in segments:
            if b > as_of:
                continue
            row = result[(service, month_of(a))]
            row["incident_minutes"] += _minutes(a, b) if any_open else 0.0
            row["impact_minutes"] += 0.0 if maintained else weight * _minutes(a, b)
            row["maintenance_minutes"] += _minutes(a, b) if maintained else 0.0
    return dict(result)


def bad_minutes_last_30_days(incidents: Iterable[dict[str, Any]], maintenances: Iterable[dict[str, Any]],
                             as_of: datetime, weights: Mapping[str, float] = WEIGHTS) -> dict[str, float]:
    """service -> weighted downtime minutes in [as_of - 30 days, as_of)."""
    start = as_of - timedelta(days=30)
    return {service: sum(weight * _minutes(a, b) for a, b, _, weight, maintained in segments
                         if a >= start and b <= as_of and not maintained)
            for service, segments in timelines(incidents, maintenances, as_of, weights, cuts=[start]).items()}
