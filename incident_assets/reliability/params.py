"""The parameters of a report run (`ReportParams`): their defaults, their validation (each value
once, when the parameters are made, before any SQL) and their rendering as the SQL literals the
report files' `{{ name }}` placeholders take (see `report_files.py`).

A bad value is one sentence naming the key it came from: `ReportSettings` (report_config.py)
passes the key of each value (an environment variable, `run config <key>`, or the resource
field) in the validation context; made directly, a value is named by its field.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, ValidationInfo, field_validator

from incident_assets.reliability.sql_literals import (
    SLUG, ReportSqlError, interval_literal, number_literal, relation_literal, slug_list_literal, text_literal,
    timestamp_literal, timezone_literal)
from incident_assets.settings import DEFAULT_TIMEZONE, checked_timezone

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


def parsed_instant(value: Any, key: str) -> datetime:
    """An ISO-8601 instant (UTC when it has no offset), from text or a datetime."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ReportSqlError(f"{key}: {value!r} is not an ISO-8601 timestamp") from None
    if not isinstance(value, datetime):
        raise ReportSqlError(f"{key}: {value!r} is not an ISO-8601 timestamp")
    # a timestamp without offset is read as UTC, the reports' time zone
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


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


def slo_target(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 100:
        raise ReportSqlError(f"{key} must be a percentage in (0, 100), not {value!r}")
    return float(value)


def tier_targets(value: Any, key: str) -> dict[int, float]:
    """SLO target (%) per service tier, the tiers given as numbers or as their text ("1")."""
    if not isinstance(value, Mapping):
        raise ReportSqlError(f"{key} must be an object of service tier to SLO target (%), such as {{\"1\": 99.95}}")
    targets: dict[int, float] = {}
    for tier, target in value.items():
        try:
            number = int(tier)
        except (TypeError, ValueError):
            raise ReportSqlError(f"{key}: {tier!r} is not a service tier number") from None
        targets[number] = slo_target(target, f"{key}: the SLO target of tier {number}")
    return targets


def key_of(info: ValidationInfo) -> str:
    """The key a value came from, for its error message (see the module's docstring)."""
    return (info.context or {}).get("keys", {}).get(info.field_name, info.field_name)


class ReportParams(BaseModel):
    """The typed parameters of one report run (defaults: docs/metrics.md), validated when made;
    a bad value raises ReportSqlError, one sentence naming its key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    as_of: datetime
    excluded_severities: tuple[str, ...] = DEFAULT_EXCLUDED_SEVERITIES
    slo_targets: Mapping[int, float] = Field(default_factory=lambda: dict(DEFAULT_SLO_TARGETS))
    slo_default_target_pct: float = DEFAULT_SLO_TARGET
    change_window: timedelta = DEFAULT_CHANGE_WINDOW
    retrospective_due: timedelta = DEFAULT_RETROSPECTIVE_DUE
    timezone: str = DEFAULT_TIMEZONE  # of the hours-of-the-day buckets
    impact_weights: Mapping[str, float] = Field(default_factory=lambda: dict(DEFAULT_IMPACT_WEIGHTS))
    min_change_pct: float = DEFAULT_MIN_CHANGE_PCT
    _literals: dict[str, str] = PrivateAttr()

    def __init__(self, _keys: Mapping[str, str] | None = None, **values: Any) -> None:
        """`_keys`: where each value came from (field name to config key or environment variable),
        to name it in an error; `ReportSettings` passes them."""
        try:
            self.__pydantic_validator__.validate_python(values, self_instance=self, context={"keys": dict(_keys or {})})
        except ValidationError as e:
            raise ReportSqlError(one_sentence(e)) from None

    @field_validator("as_of", mode="before")
    @classmethod
    def _instant(cls, value: Any, info: ValidationInfo) -> datetime:
        return parsed_instant(value, key_of(info))

    @field_validator("excluded_severities", mode="before")
    @classmethod
    def _severities(cls, value: Any, info: ValidationInfo) -> tuple[str, ...]:
        if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
            raise ReportSqlError(f"{key_of(info)} must be a list of severity slugs, not {value!r}")
        for slug in value:
            if not isinstance(slug, str) or not SLUG.match(slug):
                raise ReportSqlError(f"{key_of(info)}: {slug!r} is not a severity slug (such as 'SEV1')")
        return tuple(value)

    @field_validator("slo_targets", mode="before")
    @classmethod
    def _tiers(cls, value: Any, info: ValidationInfo) -> dict[int, float]:
        return tier_targets(value, key_of(info))

    @field_validator("slo_default_target_pct", mode="before")
    @classmethod
    def _default_target(cls, value: Any, info: ValidationInfo) -> float:
        return slo_target(value, key_of(info))

    @field_validator("change_window", "retrospective_due", mode="before")
    @classmethod
    def _span(cls, value: Any, info: ValidationInfo) -> timedelta:
        if not isinstance(value, timedelta) or value <= timedelta(0):
            raise ReportSqlError(f"{key_of(info)} must be a positive duration, not {value!r}")
        return value

    @field_validator("timezone", mode="before")
    @classmethod
    def _zone(cls, value: Any, info: ValidationInfo) -> str:
        if not isinstance(value, str):
            raise ReportSqlError(f"{key_of(info)} must be an IANA time zone name, not {value!r}")
        try:
            return checked_timezone(value.strip(), key_of(info))
        except ValueError as e:
            raise ReportSqlError(str(e)) from None

    @field_validator("impact_weights", mode="before")
    @classmethod
    def _weights(cls, value: Any, info: ValidationInfo) -> dict[str, float]:
        return validated_impact_weights(value, key_of(info))

    @field_validator("min_change_pct", mode="before")
    @classmethod
    def _min_change(cls, value: Any, info: ValidationInfo) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value >= 0):
            raise ReportSqlError(f"{key_of(info)} must be a percentage >= 0, not {value!r}")
        return float(value)

    def model_post_init(self, context: Any) -> None:
        # rendered once: every report step reads the same literals
        self._literals = {
            "as_of": timestamp_literal(self.as_of),
            "excluded_severities": slug_list_literal(self.excluded_severities),
            "slo_targets": relation_literal(
                {"service_tier": "bigint", "slo_target_pct": "double precision"},
                [(f"cast({tier} as bigint)", number_literal(target)) for tier, target in sorted(self.slo_targets.items())]),
            "slo_default_target_pct": number_literal(self.slo_default_target_pct),
            "change_window": interval_literal(self.change_window),
            "retrospective_due": interval_literal(self.retrospective_due),
            "timezone": timezone_literal(self.timezone),
            "hours_of_week": HOURS_OF_WEEK,
            "impact_weights": relation_literal(
                {"condition_name": "text", "weight": "double precision"},
                [(text_literal(name), number_literal(weight)) for name, weight in sorted(self.impact_weights.items())]),
            "min_change_pct": number_literal(self.min_change_pct),
        }

    def literals(self) -> dict[str, str]:
        """Every parameter rendered as a SQL literal (or literal relation)."""
        return dict(self._literals)


def one_sentence(error: ValidationError) -> str:
    """The first problem of a validation: the validator's own sentence, else pydantic's, keyed."""
    first = error.errors(include_url=False)[0]
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, Exception):
        return str(cause)
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"


PARAMETER_NAMES = frozenset(ReportParams(as_of=datetime.now(timezone.utc)).literals())
