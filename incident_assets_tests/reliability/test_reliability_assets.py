"""The report assets (one per SQL file) and the HTML asset under Dagster, on a DuckDB loaded with golden input."""

from __future__ import annotations

import re
import subprocess
import sys

import dagster as dg
import pytest

from incident_assets.defs.reliability.assets import reliability_html_report, report_assets, report_run_config
from incident_assets.defs.reliability.previews import markdown_text, metric_definitions
from incident_assets.reliability.runner import ReportSqlError, parse_report_file, report_tables
from incident_assets_tests.ingestion import failure_message, materialize
from incident_assets_tests.reliability_inputs import AS_OF_ISO, WEIGHTS, loaded_destination

RUN_CONFIG = report_run_config(as_of=AS_OF_ISO)


def point_reports_at(dest, monkeypatch: pytest.MonkeyPatch):
    """The assets write to `dest`, with no report setting left in the environment."""
    for key, value in dest.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("INCIDENT_ASSETS_AS_OF", raising=False)
    monkeypatch.delenv("INCIDENT_ASSETS_IMPACT_WEIGHTS", raising=False)
    return dest


@pytest.fixture
def golden_env(tmp_path, monkeypatch):
    return point_reports_at(loaded_destination("duckdb", tmp_path), monkeypatch)


@pytest.fixture
def weights_env(tmp_path, monkeypatch):
    """The impact weights inputs, nothing built yet."""
    return point_reports_at(loaded_destination("duckdb", tmp_path, WEIGHTS), monkeypatch)


def materializations(result: dg.ExecuteInJobResult) -> dict[str, dict]:
    events = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    return {m.asset_key.path[-1]: m.metadata for m in events}


def test_specs_lineage():
    specs = {s.key.to_user_string(): s for a in report_assets for s in a.specs}
    assert set(specs) == {f"reliability/{t}" for t in report_tables()}
    facts = specs["reliability/incident_facts"]
    assert {d.asset_key.to_user_string() for d in facts.deps} == {"incident_api/incidents"}
    health = {d.asset_key.to_user_string() for d in specs["reliability/catalog_health"].deps}
    assert {"incident_api/environments", "incident_api/services", "incident_api/functionalities",
            "incident_api/teams", "incident_api/webhooks", "reliability/incident_facts"} <= health
    for name, spec in specs.items():
        assert spec.group_name == "reliability" and spec.owners == ["team:sre-platform"]
        assert spec.kinds == {"sql", "duckdb"} and spec.automation_condition is not None
        table = report_tables()[name.split("/")[-1]]
        assert [c.name for c in spec.metadata["dagster/column_schema"].columns] == [c for c, _ in table.columns]
        assert all(c.description for c in spec.metadata["dagster/column_schema"].columns)
        # the definitions as text on the asset's page (a relative link leads nowhere in the UI)
        assert f"**Metric definitions** (docs/metrics.md, section {table.name})\n\n" in spec.description
        assert metric_definitions()[table.name][:40] in spec.description
        assert "](" not in spec.description and "#" + table.name not in spec.description
    # one asset, so one step, per SQL file: a step waits only on what its own SQL reads
    assert len(report_assets) == len(report_tables())
    assert all(a.op.name == f"reliability__{a.key.path[-1]}" and len(a.keys) == 1 for a in report_assets)


def test_descriptions_keep_angle_brackets_and_code():
    # markdown would take <metric> for an HTML tag and drop it; inside a code span it is kept as is
    assert markdown_text("seconds_to_<metric> and `seconds_to_<metric>`") == \
        "seconds_to_\\<metric\\> and `seconds_to_<metric>`"


def test_materialize_all_with_metadata(golden_env):
    result = materialize([*report_assets], run_config=RUN_CONFIG)
    assert result.success
    meta = materializations(result)
    assert set(meta) == set(report_tables())
    assert meta["incident_facts"]["dagster/row_count"].value == 15
    assert meta["open_incident_backlog"]["dagster/row_count"].value == 3
    assert meta["slo_error_budget"]["dagster/row_count"].value == 4
    assert meta["data_quality_issues"]["dagster/row_count"].value == 8
    # previews in minutes; the Mar resolve p50 / p90 are 2400 / 3360 seconds
    preview = meta["mttx_monthly"]["preview"].value
    # six columns: a wider preview is folded away behind "[Show Markdown]" in the UI (the
    # intervals are in the table and drawn in the HTML report)
    assert preview.startswith("| month | severity | metric | n | p50_minutes | p90_minutes |")
    assert "| 2024\u201103 | all | resolve | 2 | 40.00 | 56.00 |" in preview  # a month never wraps
    # mttx_change counts its verdicts (Feb against Nov-Jan: fewer than 5 incidents everywhere)
    assert meta["mttx_change"]["worse_rows"] == dg.MetadataValue.int(0)
    assert meta["mttx_change"]["too_few_rows"].value == meta["mttx_change"]["dagster/row_count"].value > 0
    # (all + severities) x (acknowledge, resolve): Jan all/SEV1/SEV2/SEV3, Feb all/SEV1/SEV2/SEV3/none,
    # Mar all/SEV1/SEV2/SEV3: 13 x 2 = 26
    assert preview.endswith("Showing 15 of 26 rows of the preview query.")
    # headline numbers, per run, of the last complete month (Feb: I4, I5, I8, I15; I11 started in
    # Jan). MTTA over 600 and 1800 s (I5's is negative, I15 has none): p50 1200 s = 20 min, p90
    # 600 + 0.9 x 1200 = 1680 s = 28 min. MTTR over 1800, 2400, 3600, 7200: p50 3000 s = 50 min.
    assert meta["mttx_monthly"]["mtta_p50_minutes"].value == pytest.approx(20.0)
    assert meta["mttx_monthly"]["mtta_p90_minutes"].value == pytest.approx(28.0)
    assert meta["mttx_monthly"]["mttr_p50_minutes"].value == pytest.approx(50.0)
    assert meta["open_incident_backlog"]["n_open"] == dg.MetadataValue.int(2)
    assert meta["open_incident_backlog"]["n_unacknowledged"] == dg.MetadataValue.int(1)
    # API 7200 bad minutes of 21.6, Web 150 of 43.2; DB 90 of 216 and Quiet 0 are within budget
    assert meta["slo_error_budget"]["services_over_budget"] == dg.MetadataValue.int(2)
    assert meta["data_quality_issues"]["missing_impact_condition"] == dg.MetadataValue.int(2)
    # Feb (41760 min): DB's 130 impact minutes (I11 60, I8 40, I15 30) are the worst (API 30, Web 120)
    # rounded to two decimals for reading (100 * (1 - 130 / 41760) = 99.6887...), the month named
    assert meta["service_reliability_monthly"]["worst_availability_pct"].value == 99.69
    assert meta["service_reliability_monthly"]["period"] == dg.MetadataValue.text("2024-02 (last complete month)")
    assert meta["mttx_monthly"]["period"] == dg.MetadataValue.text("2024-02 (last complete month)")
    assert list(meta["mttx_monthly"]).index("period") < list(meta["mttx_monthly"]).index("mtta_p50_minutes")
    # the 30 days ending at as_of (2024-03-15 12:00)
    assert meta["slo_error_budget"]["period"] == dg.MetadataValue.text("2024-02-14 to 2024-03-15 (30 days)")
    # column schema: the header's descriptions, the created table's types
    schema = meta["service_reliability_monthly"]["dagster/column_schema"].schema
    assert [(c.name, c.type) for c in schema.columns][:3] == [("month", "date"), ("service_id", "varchar"),
                                                             ("service_name", "varchar")]
    assert schema.columns[5].description.startswith("minutes in the month with at least one reportable incident")
    sql = meta["incident_facts"]["sql"].value
    assert sql.startswith("```sql\n") and "reliability_inputs.incidents__milestones" in sql
    assert "2024-03-15 12:00:00+00" in sql and "{{" not in sql
    assert meta["incident_facts"]["as_of"].value == "2024-03-15T12:00:00+00:00"


def test_as_of_from_env(golden_env, monkeypatch):
    monkeypatch.setenv("INCIDENT_ASSETS_AS_OF", "2024-03-10T13:00:00Z")
    result = materialize([*report_assets], selection="reliability/incident_facts")
    assert result.success
    assert golden_env.query("select distinct as_of from reliability.incident_facts")[0][0].isoformat() \
        == "2024-03-10T13:00:00+00:00"


def test_subset_runs_only_selected(golden_env):
    assert materialize([*report_assets], run_config=report_run_config(["incident_facts"], as_of=AS_OF_ISO),
                       selection="reliability/incident_facts").success
    result = materialize([*report_assets], run_config=report_run_config(["open_incident_backlog"], as_of=AS_OF_ISO),
                         selection="reliability/open_incident_backlog")
    assert set(materializations(result)) == {"open_incident_backlog"}
    tables = {r[0] for r in golden_env.query(
        "select table_name from information_schema.tables where table_schema = 'reliability'")}
    assert tables == {"incident_facts", "open_incident_backlog"}


def test_bad_as_of_fails_clearly(golden_env):
    result = materialize([*report_assets], run_config=report_run_config(as_of="yesterday"), raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert re.search(r"as_of: 'yesterday' is not an ISO-8601 timestamp", failure.message)


def test_a_locked_file_fails_with_the_sentence_and_a_missing_folder_is_made(golden_env, tmp_path, monkeypatch):
    """The destination is checked only when connecting fails: still one sentence for a lock."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('ready', flush=True); time.sleep(120)", str(golden_env.duckdb_path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = materialize([*report_assets], run_config=report_run_config(["incident_facts"], as_of=AS_OF_ISO),
                             selection="reliability/incident_facts", raise_on_error=False)
    finally:
        holder.kill()
        holder.wait()
    assert failure_message(result).startswith(
        f"the DuckDB file {golden_env.duckdb_path} is locked by process {holder.pid} (")
    new_file = tmp_path / "new" / "incidents.duckdb"
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(new_file))
    result = materialize([*report_assets], run_config=report_run_config(["incident_facts"], as_of=AS_OF_ISO),
                         selection="reliability/incident_facts")
    assert result.success and set(materializations(result)) == {"incident_facts"} and new_file.exists()


def test_html_report_asset(golden_env, tmp_path):
    assert materialize([*report_assets], run_config=RUN_CONFIG).success
    path = tmp_path / "out" / "report.html"
    result = materialize([reliability_html_report], run_config={
        "ops": {"reliability__html_report": {"config": {"path": str(path)}}}})
    meta = result.get_asset_materialization_events()[0].event_specific_data.materialization.metadata
    assert meta["path"].value == str(path.resolve()) and path.exists()
    assert "url" not in meta  # a file:// link does nothing from the UI: the path to copy, and how to open it
    assert meta["open"].value == (f"paste {path.resolve().as_uri()} into the browser's address bar, or run: "
                                  f"xdg-open {path.resolve()} (macOS: open {path.resolve()})")


# --- impact weights: run config, env, bad values ---------------------------------------------

AUTH_FEB = ("select impact_minutes from reliability.service_reliability_monthly "
            "where service_id = 'svc-auth' and month = date '2024-02-01'")


def weights_run(weights=None, **config) -> dict:
    return report_run_config(as_of=AS_OF_ISO, **({"impact_weights": weights} if weights is not None else {}), **config)


def test_impact_weights_from_env_and_run_config(weights_env, monkeypatch):
    # Auth is Partially Unavailable all February (41760 min): 0.3 by default
    assert materialize([*report_assets], run_config=weights_run()).success
    assert weights_env.query(AUTH_FEB)[0][0] == pytest.approx(0.3 * 41760)
    monkeypatch.setenv("INCIDENT_ASSETS_IMPACT_WEIGHTS", '{"partially unavailable": 0.5}')
    assert materialize([*report_assets], run_config=weights_run()).success
    assert weights_env.query(AUTH_FEB)[0][0] == pytest.approx(0.5 * 41760)
    # run config wins over the env var; names are matched trimmed and in any case
    assert materialize([*report_assets], run_config=weights_run({" Partially UNAVAILABLE": 0.1})).success
    assert weights_env.query(AUTH_FEB)[0][0] == pytest.approx(0.1 * 41760)


@pytest.mark.parametrize("env, weights, fragment", [
    ("{unavailable: 1}", None, "INCIDENT_ASSETS_IMPACT_WEIGHTS is not valid JSON"),
    ("[1, 0.3]", None, "INCIDENT_ASSETS_IMPACT_WEIGHTS must be an object of condition name to weight in [0, 1]"),
    ('{"degraded": 1.5}', None, "INCIDENT_ASSETS_IMPACT_WEIGHTS: the weight of condition 'degraded' must be a number "
                               "in [0, 1], not 1.5."),
    ('{"degraded": 0.1}', {"degraded": "high"}, "impact_weights: the weight of condition 'degraded' must be a number "
                                               "in [0, 1], not 'high'."),
    (None, {"bug": -0.1}, "impact_weights: the weight of condition 'bug' must be a number in [0, 1], not -0.1."),
    (None, {"bug": True}, "impact_weights: the weight of condition 'bug' must be a number in [0, 1], not True."),
])
def test_bad_impact_weights_fail_before_any_sql(weights_env, monkeypatch, env, weights, fragment):
    if env is not None:
        monkeypatch.setenv("INCIDENT_ASSETS_IMPACT_WEIGHTS", env)
    result = materialize([*report_assets], run_config=weights_run(weights), raise_on_error=False)
    assert not result.success
    message = failure_message(result)
    assert fragment in message, message
    assert len(message.splitlines()) == 1, message
    # nothing ran: not even the input views
    assert weights_env.query("select count(*) from information_schema.tables "
                             "where table_schema in ('reliability', 'reliability_inputs')") == [(0,)]


# --- the SQL header block ------------------------------------------------------------------------

HEADER = """-- What the table answers,
-- on two lines.
--
-- A second paragraph with <angle> brackets.
--
-- columns:
--   month: calendar month
--   value_minutes: a longer text that
--     continues here: deeper indented
--
-- preview:
--   select month from {{report.example}}
--   order by month
--
-- headline:
--   select count(*) as months from {{report.example}}
select {{as_of}} as month, 1 as value_minutes
"""


def test_header_block_parsed():
    table = parse_report_file("example", HEADER)
    assert table.description == "What the table answers, on two lines.\n\nA second paragraph with <angle> brackets."
    assert table.columns == (("month", "calendar month"),
                             ("value_minutes", "a longer text that continues here: deeper indented"))
    assert table.preview == "select month from {{report.example}}\norder by month"
    assert table.headline == "select count(*) as months from {{report.example}}"
    assert table.template.strip().startswith("select {{as_of}}") and table.report_inputs == ()


@pytest.mark.parametrize("text, error", [
    ("-- Only a description.\nselect 1 as x\n", "example.sql: the header has no columns: section"),
    ("-- columns:\n--   x: a column\nselect 1 as x\n", "example.sql: the header has no description"),
    ("-- D.\n--\n-- columns:\n--   x:\nselect 1 as x\n", "example.sql: columns ['x'] have no description"),
    ("-- D.\n--\n-- columns:\n--   x: one\n--   x: two\nselect 1 as x\n", "example.sql: a column is listed twice"),
    ("-- D.\n--\n-- columns:\n--   x: one\n-- stray\nselect 1 as x\n", "example.sql: header line 'stray'"),
    ("-- D.\n--\n-- columns:\n--   x: one\n--\n-- preview:\n--   select * from {{raw.incidents}}\nselect 1 as x\n",
     "example.sql: preview and headline queries read report tables, not raw ones"),
])
def test_bad_header_block_fails_clearly(text, error):
    with pytest.raises(ReportSqlError, match=re.escape(error)):
        parse_report_file("example", text)
