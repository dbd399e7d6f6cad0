"""Freshness over every asset: a daily product, so data older than a day and a bit is late.

`FreshnessPolicy.time_window` (evaluated by the Dagster daemon, shown on every asset in the UI):
WARN after `INCIDENT_ASSETS_FRESHNESS_WARN_HOURS` (default 26: the daily load plus slack), FAIL
after `INCIDENT_ASSETS_FRESHNESS_FAIL_HOURS` (default 50: a whole daily load missed).

`apply_freshness_policies(defs)` puts the policy on every asset that has none; apply it to the
merged definitions (definitions.py) so that every system's assets get it.
"""

import datetime
import os
import warnings

import dagster as dg

WARN_HOURS_ENV = "INCIDENT_ASSETS_FRESHNESS_WARN_HOURS"
FAIL_HOURS_ENV = "INCIDENT_ASSETS_FRESHNESS_FAIL_HOURS"
DEFAULT_WARN_HOURS = 26.0
DEFAULT_FAIL_HOURS = 50.0


def _hours(env: str, default: float) -> datetime.timedelta:
    raw = os.environ.get(env, "").strip()
    try:
        hours = float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{env}={raw!r} is not a number of hours") from None
    if hours <= 0:
        raise ValueError(f"{env}={raw!r} must be a positive number of hours")
    return datetime.timedelta(hours=hours)


def daily_freshness_policy() -> dg.FreshnessPolicy:
    warn, fail = _hours(WARN_HOURS_ENV, DEFAULT_WARN_HOURS), _hours(FAIL_HOURS_ENV, DEFAULT_FAIL_HOURS)
    if warn >= fail:
        raise ValueError(f"{WARN_HOURS_ENV} must be smaller than {FAIL_HOURS_ENV}")
    return dg.FreshnessPolicy.time_window(fail_window=fail, warn_window=warn)


def with_freshness(spec: dg.AssetSpec) -> dg.AssetSpec:
    """The spec with the daily policy, unless its owner set one."""
    return dg.apply_freshness_policy(spec, daily_freshness_policy(), overwrite_existing=False)


def apply_freshness_policies(defs: dg.Definitions) -> dg.Definitions:
    """`defs` with the daily policy on every asset that has none."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return defs.map_asset_specs(func=with_freshness)
