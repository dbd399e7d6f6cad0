"""The parameters of a report run (`ReportParams`): their defaults, the validation of user
input, and their rendering as the SQL literals the report files' `{{ name }}` placeholders
take (see `report_files.py`)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from incident_assets.reliability.sql_literals import (
    ReportSqlError, interval_literal, number_literal, relation_literal, slug_list_literal, text_literal,
    timestamp_literal, timezone_literal)
from incident_assets.settings import DEFAULT_TIMEZONE

DEFAULT_EXCLUDED_SEVERITIES = ("GAMEDAY", "MAINTENANCE")
DEFAULT_SLO_TARGETS = {1: 99.95, 2: 99.9}
DEFAULT_SLO_TARGET = 99.5
DEFAULT_CHANGE_WINDOW = timedelta(hours=24)
DEFAULT_RETROSPECTIVE_DUE = timedelta(days=14)
DEFAULT_MIN_CHANGE_PCT = 20.0  # the smallest move of a median that mttx_change calls worse or better
# downtime weight of an impact condition, by its name trimmed and lower-cased: a full outage
# counts whole, a partial one 30 %, degraded performance not at all (as status pages count uptime)
DEFAULT_IMPACT_WEIGHTS = {"unavailable": 1.0, "partially unavailable": 0.3, "degraded": 0.0, "bug": 0.0,
                          "operational": 0.0}


# The one definition of the hours-of-the-day buckets, a relation (day_of_week: ISO, 1 = Monday;
# hour: 0-23; bucket) that reports join on `extract(isodow / hour from ts at time zone
# {{timezone}})`. Every bucket edge is a whole hour, so the local hour decides the bucket.
HOURS_OF_WEEK = f"""(select d.day_of_week, h.hour,
    case when h.hour < 8 or h.hour >= 22 then 'sleep'
         when d.day_of_week <= 5 and h.hour < 18 then 'business'
         else 'off' end as bucket
    from (values {", ".join(f"({d})" for d in range(1, 8))}) as d (day_of_week)
    cross join (values {", ".join(f"({h})" for h in range(24))}) as h (hour))"""


def tier_targets_literal(targets: Mapping[int, float]) -> str:
    """A relation (service_tier bigint, slo_target_pct double)."""
    for tier, target in targets.items():
        if not 0 < float(target) < 100:
            raise ReportSqlError(f"SLO target {target!r} for tier {tier!r} must be in (0, 100)")
    return relation_literal(
        {"service_tier": "bigint", "slo_target_pct": "double precision"},
        [(f"cast({int(tier)} as bigint)", number_literal(target)) for tier, target in sorted(targets.items())],
    )


def condition_name_key(name: str) -> str:
    """How a condition name is matched: trimmed of spaces and lower-cased (as the SQL does)."""
    return name.strip(" ").lower()


def validated_impact_weights(value: Any, key: str) -> dict[str, float]:
    """The condition weights map from user input: a JSON text or a mapping of condition name to
    a weight in [0, 1]. Names come back trimmed and lower-cased. Anything else raises
    ReportSqlError with one sentence naming `key` (the config key the value came from)."""
    example = 'such as {"unavailable": 1, "partially unavailable": 0.3}'
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as e:
            raise ReportSqlError(f"{key} is not valid JSON ({e}): expected an object of condition name "
                                 f"to weight in [0, 1], {example}.") from None
    if not isinstance(value, Mapping):
        raise ReportSqlError(f"{key} must be an object of condition name to weight in [0, 1], {example}, "
                             f"not {type(value).__name__}.")
    weights: dict[str, float] = {}
    for name, weight in value.items():
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 <= weight <= 1:
            raise ReportSqlError(f"{key}: the weight of condition {name!r} must be a number in [0, 1], "
                                 f"not {weight!r}.")
        normalized = condition_name_key(str(name))
        if not normalized or "\x00" in normalized:
            raise ReportSqlError(f"{key}: condition name {name!r} must be a non-empty name.")
        if weights.get(normalized, weight) != weight:
            raise ReportSqlError(f"{key}: condition {name!r} is given two different weights "
                                 f"(names are matched trimmed and case-insensitively).")
        weights[normalized] = float(weight)
    return weights


def impact_weights_literal(weights: Mapping[str, float]) -> str:
    """A relation (condition_name text, weight double): the names already matched as the SQL
    matches them, the weights checked again (in [0, 1])."""
    checked = validated_impact_weights(dict(weights), "impact_weights")
    return relation_literal(
        {"condition_name": "text", "weight": "double precision"},
        [(text_literal(name), number_literal(weight)) for name, weight in sorted(checked.items())],
    )


@dataclass(frozen=True)
class ReportParams:
    """The typed parameters of one report run (defaults: docs/metrics.md)."""

    as_of: datetime
    excluded_severities: tuple[str, ...] = DEFAULT_EXCLUDED_SEVERITIES
    slo_targets: Mapping[int, float] = field(default_factory=lambda: dict(DEFAULT_SLO_TARGETS))
    slo_default_target_pct: float = DEFAULT_SLO_TARGET
    change_window: timedelta = DEFAULT_CHANGE_WINDOW
    retrospective_due: timedelta = DEFAULT_RETROSPECTIVE_DUE
    timezone: str = DEFAULT_TIMEZONE  # of the hours-of-the-day buckets
    impact_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_IMPACT_WEIGHTS))
    min_change_pct: float = DEFAULT_MIN_CHANGE_PCT

    def literals(self) -> dict[str, str]:
        """Every parameter rendered as a SQL literal (or literal relation), validated."""
        if not 0 < float(self.slo_default_target_pct) < 100:
            raise ReportSqlError("slo_default_target_pct must be in (0, 100)")
        if not (math.isfinite(float(self.min_change_pct)) and float(self.min_change_pct) >= 0):
            raise ReportSqlError(f"min_change_pct must be a percentage >= 0, not {self.min_change_pct!r}")
        return {
            "as_of": timestamp_literal(self.as_of),
            "excluded_severities": slug_list_literal(self.excluded_severities),
            "slo_targets": tier_targets_literal(self.slo_targets),
            "slo_default_target_pct": number_literal(self.slo_default_target_pct),
            "change_window": interval_literal(self.change_window),
            "retrospective_due": interval_literal(self.retrospective_due),
            "timezone": timezone_literal(self.timezone),
            "hours_of_week": HOURS_OF_WEEK,
            "impact_weights": impact_weights_literal(self.impact_weights),
            "min_change_pct": number_literal(self.min_change_pct),
        }


PARAMETER_NAMES = frozenset(ReportParams(as_of=datetime.now(timezone.utc)).literals())
