"""Hand-built incidents for the golden tests of the percentile intervals and of `mttx_change`.

Every incident is SEV2, starts at a whole hour and has only `started` and `resolved`
milestones, so its resolve duration is the number of minutes given here (detect, acknowledge
and mitigate have n = 0). Each service holds one case; the comments give the durations.

`AS_OF_TRENDS` = 2024-06-15 12:00 UTC: the recent month is May 2024, the baseline Feb-Apr 2024.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from incident_assets_tests.reliability_inputs import incident, ms, svc

AS_OF_TRENDS = datetime(2024, 6, 15, 12, 0, tzinfo=timezone.utc)
AS_OF_TRENDS_ISO = "2024-06-15T12:00:00.000Z"

# --- percentile intervals (May, resolve minutes) -------------------------------------------------
INTERVAL_CASES = {
    "svc-n1": [42],
    "svc-n5": [50, 10, 40, 20, 30],
    "svc-n10": [100, 30, 50, 10, 70, 90, 20, 80, 60, 40],
    "svc-n36": list(range(36, 0, -1)),
    "svc-ties": [30, 20, 60, 20, 50, 10, 20, 40, 50, 30],
}

# --- mttx_change cases: (baseline minutes over Feb-Apr, recent minutes in May) -------------------
CHANGE_CASES = {
    # complete separation, medians 47.5 -> 115 min: worse
    "svc-worse": ([30, 35, 40, 45, 50, 55, 60, 65], [90, 100, 110, 120, 130, 140]),
    # the mirror image, medians 115 -> 47.5 min: better
    "svc-better": ([90, 100, 110, 120, 130, 140], [30, 35, 40, 45, 50, 55, 60, 65]),
    # complete separation (z 2.61) but the median moves only 102 -> 112 (+9.8 %): no_change at 20 %
    "svc-small-shift": ([100, 101, 102, 103, 104], [110, 111, 112, 113, 114]),
    # median 100 -> 130 (+30 %) but the durations overlap (z 0.52): no_change
    "svc-noisy": ([10, 50, 100, 150, 200], [20, 60, 130, 160, 300]),
    # 4 recent durations: too_few
    "svc-few-recent": ([10, 20, 30, 40, 50, 60], [100, 200, 300, 400]),
    # 4 baseline durations: too_few
    "svc-few-baseline": ([10, 20, 30, 40], [100, 200, 300, 400, 500, 600]),
    # every duration the same: sigma = 0, z NULL, no_change
    "svc-tied": ([30] * 5, [30] * 5),
    # baseline median 0 (resolved as it started): change NULL, no_change whatever z says
    "svc-zero": ([0] * 5, [10, 20, 30, 40, 50]),
    # ties across the periods, z computed by hand in the test
    "svc-hand": ([5, 10, 20, 25, 50, 60], [10, 20, 20, 30, 40]),
}

PERIOD_EDGES = [datetime(2024, 1, 31, 23, 30), datetime(2024, 2, 1), datetime(2024, 4, 30, 23, 30),
                datetime(2024, 5, 1), datetime(2024, 5, 31, 23, 30), datetime(2024, 6, 1)]
BASELINE_DAYS = [datetime(2024, 2, 1) + timedelta(days=d) for d in range(0, 88, 7)]  # Feb 1 .. Apr 25
RECENT_DAYS = [datetime(2024, 5, 1) + timedelta(days=d) for d in range(30)]


def resolved_after(number: int, service: dict[str, str], start: datetime, minutes: int) -> dict[str, Any]:
    begin = start.strftime("%Y-%m-%d %H:%M")
    end = (start + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M")
    return incident(number, "SEV2", begin, [ms("resolved", end)], [service])


def _incidents() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    hour = 0  # every incident at an hour of its own, so that no two share an id or a start

    def add(service_id: str, day: datetime, minutes: int) -> None:
        nonlocal hour
        hour += 1
        out.append(resolved_after(100 + len(out), svc(service_id, service_id.removeprefix("svc-").title()),
                                  day + timedelta(hours=hour % 24), minutes))

    for service_id, durations in INTERVAL_CASES.items():
        for k, minutes in enumerate(durations):
            add(service_id, RECENT_DAYS[k % len(RECENT_DAYS)], minutes)
    for service_id, (baseline, recent) in CHANGE_CASES.items():
        for k, minutes in enumerate(baseline):
            add(service_id, BASELINE_DAYS[k % len(BASELINE_DAYS)], minutes)
        for k, minutes in enumerate(recent):
            add(service_id, RECENT_DAYS[k % len(RECENT_DAYS)], minutes)
    # the periods' edges (half-open months, UTC): Jan 31 23:30 and Jun 1 00:00 (the month of as_of)
    # are out, Feb 1 00:00 and Apr 30 23:30 baseline, May 1 00:00 and May 31 23:30 recent
    for k, start in enumerate(PERIOD_EDGES):
        out.append(resolved_after(90 + k, svc("svc-edges", "Edges"), start, 10))
    # an open incident in May: its service's resolve row has n = 0
    out.append(incident(99, "SEV2", "2024-05-20 10:00", [], [svc("svc-open", "Open")]))
    return out


TRENDS: dict[str, list[dict[str, Any]]] = {"incidents": _incidents()}
