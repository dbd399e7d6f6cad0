"""The report settings resource (`report_settings`): environment variables, per-run overrides and
defaults merged in one place, each value validated once with one sentence naming its key, and
the values reaching the report SQL under Dagster."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from incident_assets.definitions import defs
from incident_assets.defs.reliability.assets import report_assets, report_run_config
from incident_assets.reliability.params import ReportParams
from incident_assets.defs.reliability.report_config import (
    ENV_VARS, HtmlReportConfig, ReliabilityConfig, ReportSettings, report_settings_resource)
from incident_assets.reliability.sql_literals import ReportSqlError
from incident_assets.settings import DEFAULT_HTML_REPORT_PATH
from incident_assets_tests.ingestion import materialize
from incident_assets_tests.reliability_inputs import AS_OF, AS_OF_ISO, GOLDEN, loaded_destination

SECRET_URL = "https://hooks.example.com/services/T000/B000/secret-path"


@pytest.fixture(autouse=True)
def no_report_env(monkeypatch):
    for variable in ENV_VARS.values():
        monkeypatch.delenv(variable, raising=False)


def from_env() -> ReportSettings:
    """The registered resource with its environment variables resolved, as in a run."""
    return report_settings_resource().process_config_and_initialize()


def test_defaults_and_blank_variables_mean_unset(monkeypatch):
    for variable in ENV_VARS.values():
        monkeypatch.setenv(variable, "  ")
    settings = from_env()
    params = settings.params(ReliabilityConfig(as_of=AS_OF_ISO), context=None)
    assert params == ReportParams(as_of=AS_OF)
    assert settings.html_report_path(HtmlReportConfig()) == DEFAULT_HTML_REPORT_PATH
    assert settings.webhook_url() is None


def test_environment_then_run_config(monkeypatch, tmp_path):
    monkeypatch.setenv("INCIDENT_ASSETS_AS_OF", "2024-03-10T13:00:00Z")
    monkeypatch.setenv("INCIDENT_ASSETS_TIMEZONE", " Europe/Berlin ")
    monkeypatch.setenv("INCIDENT_ASSETS_IMPACT_WEIGHTS", '{"Unavailable ": 0.9}')
    monkeypatch.setenv("INCIDENT_ASSETS_HTML_REPORT", str(tmp_path / "env.html"))
    settings = from_env()
    params = settings.params(ReliabilityConfig(), context=None)
    assert (params.as_of, params.timezone, params.impact_weights) == (
        datetime(2024, 3, 10, 13, tzinfo=timezone.utc), "Europe/Berlin", {"unavailable": 0.9})
    overridden = settings.params(ReliabilityConfig(as_of=AS_OF_ISO, timezone="UTC", change_window_hours=2,
                                                   slo_target_pct_by_tier={"3": 99.0}), context=None)
    assert (overridden.as_of, overridden.timezone, overridden.change_window, overridden.slo_targets) == (
        AS_OF, "UTC", timedelta(hours=2), {3: 99.0})
    assert overridden.impact_weights == {"unavailable": 0.9}  # not overridden: the environment's
    assert settings.html_report_path(HtmlReportConfig()) == tmp_path / "env.html"
    assert settings.html_report_path(HtmlReportConfig(path=str(tmp_path / "run.html"))) == tmp_path / "run.html"


def test_params_are_made_once_per_run_and_overrides():
    settings = ReportSettings()
    first = settings.params(ReliabilityConfig(as_of=AS_OF_ISO), context=None)
    assert settings.params(ReliabilityConfig(as_of=AS_OF_ISO), context=None) is first
    assert settings.params(ReliabilityConfig(as_of=AS_OF_ISO, min_change_pct=5.0), context=None) is not first


@pytest.mark.parametrize("variable, value, message", [
    ("INCIDENT_ASSETS_AS_OF", "yesterday", "INCIDENT_ASSETS_AS_OF: 'yesterday' is not an ISO-8601 timestamp"),
    ("INCIDENT_ASSETS_TIMEZONE", "Mars/Olympus",
     "INCIDENT_ASSETS_TIMEZONE='Mars/Olympus' is not an IANA timezone (e.g. 'UTC', 'Europe/Berlin')"),
    ("INCIDENT_ASSETS_IMPACT_WEIGHTS", '{"degraded": 2}',
     "INCIDENT_ASSETS_IMPACT_WEIGHTS: the weight of condition 'degraded' must be a number in [0, 1], not 2."),
    ("INCIDENT_ASSETS_IMPACT_WEIGHTS", "[1]",
     "INCIDENT_ASSETS_IMPACT_WEIGHTS must be an object of condition name to weight in [0, 1], such as "
     '{"unavailable": 1, "partially unavailable": 0.3}, not list.'),
])
def test_a_bad_variable_is_one_sentence_naming_it(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ReportSqlError) as raised:
        from_env().params(ReliabilityConfig(**({} if variable.endswith("AS_OF") else {"as_of": AS_OF_ISO})),
                          context=None)
    assert str(raised.value) == message


@pytest.mark.parametrize("override, message", [
    ({"as_of": "2024-13-01"}, "run config as_of: '2024-13-01' is not an ISO-8601 timestamp"),
    ({"timezone": "Europe"}, "run config timezone='Europe' is not an IANA timezone (e.g. 'UTC', 'Europe/Berlin')"),
    ({"impact_weights": {"bug": -0.1}},
     "run config impact_weights: the weight of condition 'bug' must be a number in [0, 1], not -0.1."),
    ({"slo_target_pct_by_tier": {"1": 100.0}},
     "run config slo_target_pct_by_tier: the SLO target of tier 1 must be a percentage in (0, 100), not 100.0"),
    ({"slo_target_pct_by_tier": {"gold": 99.0}}, "run config slo_target_pct_by_tier: 'gold' is not a service tier number"),
    ({"slo_default_target_pct": 0.0}, "run config slo_default_target_pct must be a percentage in (0, 100), not 0.0"),
    ({"min_change_pct": -5.0}, "run config min_change_pct must be a percentage >= 0, not -5.0"),
    ({"excluded_severities": ["SEV 1"]}, "run config excluded_severities: 'SEV 1' is not a severity slug (such as 'SEV1')"),
    ({"change_window_hours": 0.0},
     "run config change_window_hours must be a positive duration, not datetime.timedelta(0)"),
])
def test_a_bad_override_is_one_sentence_naming_its_key(override, message):
    with pytest.raises(ReportSqlError) as raised:
        ReportSettings().params(ReliabilityConfig(**{"as_of": AS_OF_ISO, **override}), context=None)
    assert str(raised.value) == message


def test_a_bad_resource_value_names_its_field():
    with pytest.raises(ReportSqlError) as raised:
        ReportSettings(slo_default_target_pct=100.0).params(ReliabilityConfig(as_of=AS_OF_ISO), context=None)
    assert str(raised.value) == "slo_default_target_pct must be a percentage in (0, 100), not 100.0"


def test_the_webhook_url_is_read_from_its_variable_and_never_shown(monkeypatch):
    monkeypatch.setenv("INCIDENT_ASSETS_ALERT_WEBHOOK_URL", SECRET_URL)
    registered = report_settings_resource()
    settings = registered.process_config_and_initialize()
    assert settings.webhook_url() == SECRET_URL
    assert SECRET_URL not in repr(settings) and SECRET_URL not in str(registered)
    # the UI's resources view shows the variable, not its value
    assert registered.alert_webhook_url == "INCIDENT_ASSETS_ALERT_WEBHOOK_URL"
    assert "report_settings" in defs.resources


def test_environment_and_run_config_reach_the_sql(monkeypatch, tmp_path):
    dest = loaded_destination("duckdb", tmp_path, GOLDEN)
    for name, value in dest.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("INCIDENT_ASSETS_AS_OF", AS_OF_ISO)
    # tier 1 overridden for this run (99.95 % by default), the other tiers' default kept
    assert materialize([*report_assets], run_config=report_run_config(slo_target_pct_by_tier={"1": 99.0})).success
    assert dest.query("select distinct as_of from reliability.incident_facts") == [(AS_OF,)]
    assert dest.query("select service_id, slo_target_pct, round(budget_minutes, 6) from reliability.slo_error_budget "
                      "where service_id in ('svc-api', 'svc-db') order by service_id") == [
        ("svc-api", 99.0, 432.0), ("svc-db", 99.5, 216.0)]
