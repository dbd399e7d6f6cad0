"""The reports' configuration in one place: the resource `report_settings` (`ReportSettings`).

Each setting has one value per run: the run config's override when the run sets one (the
report assets' `ReliabilityConfig`, the HTML report's `HtmlReportConfig`), else the resource's
value, which comes from its environment variable when that is set and not blank (as
`dg.EnvVar`, so the UI's resources view names the variable and never shows its value), else the
default of docs/metrics.md. `ReportSettings.params` merges them, here only, into the run's
`ReportParams`, which validate each value once, before any SQL: a bad value fails the report
steps with one sentence naming its key (the environment variable, `run config <key>`, or the
resource's field when set in the resource's own config).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

import dagster as dg
from pydantic import Field, PrivateAttr

from incident_assets.reliability.params import (
    DEFAULT_EXCLUDED_SEVERITIES, DEFAULT_MIN_CHANGE_PCT, DEFAULT_SLO_TARGET, DEFAULT_SLO_TARGETS, ReportParams)
from incident_assets.settings import AS_OF_ENV, DEFAULT_HTML_REPORT_PATH, DEFAULT_TIMEZONE, TIMEZONE_ENV

REPORT_SETTINGS_KEY = "report_settings"
IMPACT_WEIGHTS_ENV = "INCIDENT_ASSETS_IMPACT_WEIGHTS"
HTML_REPORT_ENV = "INCIDENT_ASSETS_HTML_REPORT"
ALERT_WEBHOOK_ENV = "INCIDENT_ASSETS_ALERT_WEBHOOK_URL"
# the resource's fields read from the environment (README, "Configuration")
ENV_VARS = {"as_of": AS_OF_ENV, "timezone": TIMEZONE_ENV, "impact_weights": IMPACT_WEIGHTS_ENV,
            "html_report": HTML_REPORT_ENV, "alert_webhook_url": ALERT_WEBHOOK_ENV}


class ReliabilityConfig(dg.Config):
    """Per-run overrides of the report settings (`ReportSettings`), all optional: a key the run
    does not set keeps the resource's value. Every report asset takes this same config;
    `report_run_config` sets it on all of them at once."""

    as_of: Optional[str] = None
    """The instant the reports describe (ISO-8601)."""
    excluded_severities: Optional[list[str]] = None
    """Severity slugs left out of the reports."""
    slo_target_pct_by_tier: Optional[dict[str, float]] = None
    """SLO target (%) per service tier ("1", "2", ...)."""
    slo_default_target_pct: Optional[float] = None
    """SLO target (%) of the other tiers."""
    change_window_hours: Optional[float] = None
    """A change failed when an incident on its service starts within this many hours."""
    retrospective_due_days: Optional[float] = None
    """A retrospective not completed this many days after resolution is overdue."""
    timezone: Optional[str] = None
    """IANA time zone of the business / off / sleep hours."""
    impact_weights: Optional[dict[str, Any]] = None
    """Downtime weight in [0, 1] per impact condition name (matched trimmed, any case); replaces the map."""
    min_change_pct: Optional[float] = None
    """The smallest move (%) of a median that mttx_change calls worse or better."""


class HtmlReportConfig(dg.Config):
    """Per-run override of where the HTML report is written."""

    path: Optional[str] = None
    """Where to write the report (else the resource's `html_report`)."""


class ReportSettings(dg.ConfigurableResource):
    """The report settings of the code location (README, "Configuration"); run config overrides
    them per run. Validation happens in `params`, so a bad value fails the report steps, one
    sentence each, and not the ingestion steps of the same run."""

    as_of: Optional[str] = Field(default=None, description=f"The instant the reports describe (ISO-8601), "
                                 f"from {AS_OF_ENV}; unset: the run's start.")
    timezone: str = Field(default=DEFAULT_TIMEZONE, description=f"IANA time zone of the business / off / sleep "
                          f"hours, from {TIMEZONE_ENV}.")
    impact_weights: Optional[str] = Field(default=None, description=f"JSON object of impact condition name to "
                                          f"downtime weight in [0, 1], from {IMPACT_WEIGHTS_ENV}; unset: "
                                          "unavailable 1, partially unavailable 0.3, others 0.")
    excluded_severities: list[str] = Field(default=list(DEFAULT_EXCLUDED_SEVERITIES),
                                           description="Severity slugs left out of the reports.")
    slo_target_pct_by_tier: dict[str, float] = Field(default={str(k): v for k, v in DEFAULT_SLO_TARGETS.items()},
                                                     description='SLO target (%) per service tier ("1", "2", ...).')
    slo_default_target_pct: float = Field(default=DEFAULT_SLO_TARGET, description="SLO target (%) of the other tiers.")
    change_window_hours: float = Field(default=24.0, description="A change failed when an incident on its service "
                                       "starts within this many hours.")
    retrospective_due_days: float = Field(default=14.0, description="A retrospective not completed this many days "
                                          "after resolution is overdue.")
    min_change_pct: float = Field(default=DEFAULT_MIN_CHANGE_PCT, description="mttx_change calls a month worse "
                                  "(better) only when its median moved up (down) by at least this many percent.")
    html_report: Optional[str] = Field(default=None, description=f"The HTML report's file, from {HTML_REPORT_ENV}; "
                                       "unset: data/reports/reliability.html.")
    # a secret: its path is the credential; kept out of reprs, logs and metadata
    alert_webhook_url: Optional[str] = Field(default=None, repr=False, description=f"Incoming-webhook URL for the "
                                             f"checks' alerts, from {ALERT_WEBHOOK_ENV}; unset: no alerts.")
    _params: dict[str, ReportParams] = PrivateAttr(default_factory=dict)

    def params(self, overrides: ReliabilityConfig, context: dg.AssetExecutionContext) -> ReportParams:
        """The run's `ReportParams`: each override the run config sets, else this resource's value
        (unset `as_of`: the run's start). Made once per run for each set of overrides (the run's
        steps share this resource); a bad value raises ReportSqlError naming its key."""
        cache_key = overrides.model_dump_json()
        if cache_key not in self._params:
            settings, keys = {}, {}
            for name in ReliabilityConfig.model_fields:
                override = getattr(overrides, name)
                settings[name] = override if override is not None else getattr(self, name)
                keys[name] = f"run config {name}" if override is not None else ENV_VARS.get(name, name)
            as_of = unless_blank(settings["as_of"]) or run_start(context)
            weights = settings["impact_weights"]
            self._params[cache_key] = ReportParams(
                _keys={**keys, "slo_targets": keys["slo_target_pct_by_tier"],
                       "change_window": keys["change_window_hours"], "retrospective_due": keys["retrospective_due_days"]},
                as_of=as_of,
                excluded_severities=settings["excluded_severities"],
                slo_targets=settings["slo_target_pct_by_tier"],
                slo_default_target_pct=settings["slo_default_target_pct"],
                change_window=timedelta(hours=settings["change_window_hours"]),
                retrospective_due=timedelta(days=settings["retrospective_due_days"]),
                timezone=unless_blank(settings["timezone"]) or DEFAULT_TIMEZONE,
                **({"impact_weights": weights} if unless_blank(weights) is not None else {}),
                min_change_pct=settings["min_change_pct"],
            )
        return self._params[cache_key]

    def html_report_path(self, override: HtmlReportConfig) -> Path:
        """The HTML report's file: the run config's path, else this resource's, else the default."""
        configured = unless_blank(override.path) or unless_blank(self.html_report)
        return Path(configured) if configured else DEFAULT_HTML_REPORT_PATH

    def webhook_url(self) -> Optional[str]:
        """Where the checks' alerts go; None: nowhere."""
        return unless_blank(self.alert_webhook_url)


def unless_blank(value: Any) -> Any:
    """`value`, or None when it is blank text (an empty variable means unset)."""
    if isinstance(value, str):
        return value.strip() or None
    return value


def run_start(context: dg.AssetExecutionContext) -> datetime:
    """When the run started (now, when the instance has no record of it)."""
    record = context.instance.get_run_record_by_id(context.run_id)
    started = record.start_time if record is not None else None
    return datetime.fromtimestamp(started, timezone.utc) if started else datetime.now(timezone.utc)


def report_settings_resource() -> ReportSettings:
    """The resource the definitions register: each setting with a variable read from it (shown
    as such in the UI's resources view) when it is set and not blank."""
    return ReportSettings(**{
        field: dg.EnvVar(variable) for field, variable in ENV_VARS.items() if os.environ.get(variable, "").strip()
    })
