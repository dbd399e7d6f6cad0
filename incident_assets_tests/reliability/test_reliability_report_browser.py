"""The HTML report as a person sees it: simulator -> HTTP -> DuckDB -> report tables -> the
`reliability/html_report` asset -> the page opened in headless Chromium.

Checks what a reader would notice at a glance: every chart drawn with data, time axes in date
order, MTTA not squashed flat by MTTR, the 100 % error-budget line, "showing N of M" under
every table, no "NaN" or "undefined". The full-page screenshot lands in
`test-artifacts/reliability_report.png` (gitignored).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import dagster as dg
import pytest

from incident_assets.defs.incident_api.assets import incident_api_assets
from incident_assets.defs.reliability.assets import reliability_html_report, report_assets, report_run_config
from incident_assets.reliability.html import SECTIONS
from incident_assets.settings import PROJECT_ROOT
from incident_assets.simulator import Simulator
from incident_assets_tests.conftest import point_project_at
from incident_assets_tests.ingestion import materialize
from incident_assets_tests.test_webserver_e2e import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.timeout(420)

AS_OF = "2026-10-20T12:00:00Z"  # inside the simulator's data, so that the current month is cut
SCREENSHOT = PROJECT_ROOT / "test-artifacts" / "reliability_report.png"
CHART_SECTIONS = [s for s in SECTIONS if s.id != "what-changed"]  # "What changed" is words only
TIME_CHARTS = ("incidents-per-month", "mtta-mttr", "availability", "change-failure", "retrospectives",
               "followups", "alert-noise")

# per chart div: axis types, tick values and trace x values as plotly laid them out
CHART_STATE_JS = """
ids => ids.map(id => {
  const gd = document.getElementById(id + '-chart');
  if (!gd) return {id, missing: true};
  const full = gd._fullLayout;
  const axes = Object.keys(full).filter(k => /^xaxis\\d*$/.test(k)).map(k => ({
    name: k, type: full[k].type, ticks: (full[k]._vals || []).map(v => v.x)}));
  return {
    id, svg: gd.querySelectorAll('.main-svg').length, points: gd.querySelectorAll('.point').length,
    axes, traces: gd.data.map(t => ({name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || []),
                                     yaxis: t.yaxis || 'y', above: Array.from((t.error_y || {}).array || [])})),
    errorBars: gd.querySelectorAll('g.errorbar').length,
    yranges: Object.fromEntries(Object.keys(full).filter(k => /^yaxis\\d*$/.test(k)).map(k => [k, full[k].range])),
    shapes: (full.shapes || []).map(s => ({x0: s.x0, x1: s.x1, width: s.line.width})),
    annotations: Array.from(gd.querySelectorAll('.annotation-text')).map(a => a.textContent),
  };
})
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Builds everything from the simulator and writes the report."""
    root = tmp_path_factory.mktemp("report")
    path = root / "reliability.html"
    with Simulator(incidents=600, seed=7) as sim, pytest.MonkeyPatch.context() as mp:
        point_project_at(mp, sim, root / "incidents.duckdb")
        assert materialize([incident_api_assets, *report_assets], run_config=report_run_config(as_of=AS_OF)).success
        result = materialize([reliability_html_report], run_config={
            "ops": {"reliability__html_report": {"config": {"path": str(path)}}}})
    materialization = result.get_asset_materialization_events()[0].event_specific_data.materialization
    yield path, materialization.metadata


@pytest.fixture(scope="module")
def seen(report) -> Iterator[dict[str, Any]]:
    """What the browser shows: chart states, page text, notes, errors; saves the screenshot."""
    from playwright.sync_api import sync_playwright

    path, metadata = report
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(path.resolve().as_uri(), wait_until="load", timeout=60_000)
            page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= "
                                   f"{2 * len(CHART_SECTIONS)}", timeout=60_000)
            page.wait_for_timeout(500)
            state = {
                "charts": {c["id"]: c for c in page.evaluate(CHART_STATE_JS, [s.id for s in CHART_SECTIONS])},
                "what_changed": page.inner_text("#what-changed"),
                "text": page.inner_text("body"),
                "showing": page.locator("p.showing").all_inner_texts(),
                "tables": page.locator("table").count(),
                "not_built": page.locator("p.not-built").count(),
                "page_width": page.evaluate("document.documentElement.scrollWidth"),
                "incident_links": page.eval_on_selector_all("#open-backlog table a", "as => as.map(a => a.href)"),
                "errors": errors,
            }
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            for section in SECTIONS:  # one image per section, readable at full size
                page.locator(f"section#{section.id}").screenshot(
                    path=str(SCREENSHOT.with_name(f"reliability_report_{section.id}.png")))
        finally:
            browser.close()
    yield state


def test_the_asset_says_where_the_report_is(report):
    path, metadata = report
    assert metadata["path"].value == str(path.resolve())
    assert metadata["open"].value.startswith(f"paste {path.resolve().as_uri()} into the browser's address bar")
    assert metadata["sections"].value == [s.id for s in SECTIONS]
    assert metadata["sections_not_built"].value == []


def test_every_chart_is_drawn_with_data(seen):
    assert seen["errors"] == []
    assert seen["page_width"] <= 1300  # nothing sticks out sideways
    assert seen["not_built"] == 0 and "No data." not in seen["text"]
    for section in CHART_SECTIONS:
        chart = seen["charts"][section.id]
        assert not chart.get("missing"), section.id
        assert chart["svg"] >= 2 and chart["points"] > 0, section.id


def test_the_page_opens_with_what_changed(seen):
    # September 2026 against June to August, as of 2026-10-20, on this data
    assert seen["text"].index("What changed") < seen["text"].index("Incidents per month by severity")
    assert "2026-09 against 2026-06 to 2026-08:" in seen["what_changed"]
    assert "other comparisons show no evidence of a change (which is not the same as stable)" in seen["what_changed"]


def test_time_axes_are_dates_in_ascending_order(seen):
    for chart_id in TIME_CHARTS:
        chart = seen["charts"][chart_id]
        assert chart["axes"], chart_id
        for axis in chart["axes"]:
            assert axis["type"] == "date", (chart_id, axis["name"])
            assert len(axis["ticks"]) >= 2 and axis["ticks"] == sorted(axis["ticks"]), (chart_id, axis["name"])
        for trace in chart["traces"]:
            assert trace["x"] == sorted(trace["x"]), (chart_id, trace["name"])


def test_mtta_is_not_squashed_by_mttr(seen):
    chart = seen["charts"]["mtta-mttr"]
    traces = {t["name"]: t for t in chart["traces"]}
    mtta, mttr = traces["MTTA p90"], traces["MTTR p90"]
    assert mtta["yaxis"] != mttr["yaxis"]
    axis_top = chart["yranges"][mtta["yaxis"].replace("y", "yaxis")][1]
    # fills its own panel, its 95 % intervals included (error bars above the points)
    tops = [v + (e or 0) for v, e in zip(mtta["y"], mtta["above"] or [0] * len(mtta["y"])) if v is not None]
    assert max(tops) > 0.5 * axis_top
    assert chart["errorBars"] >= 8 * 12  # eight lines, a bar per month drawn


def test_availability_shows_the_worst_services_against_their_targets(seen):
    chart = seen["charts"]["availability"]
    titles = [a for a in chart["annotations"] if "of budget" in a]
    assert len(titles) == 8 and all(re.fullmatch(r".+: [\d,]+ % of budget", t) for t in titles)
    consumed = [int(re.search(r"([\d,]+) % of budget", t).group(1).replace(",", "")) for t in titles]
    assert consumed == sorted(consumed, reverse=True)  # furthest over the SLO first
    assert len({tuple(r) for r in chart["yranges"].values()}) == 1  # one shared scale
    assert sum(t["name"] == "SLO target %" for t in chart["traces"]) == 8


def test_open_incidents_are_listed_with_links_and_ages_in_days(seen):
    assert "Open incidents, oldest first" in seen["text"] and "age max (days)" in seen["text"]
    assert seen["incident_links"] and all(h.startswith("https://") for h in seen["incident_links"])
    assert "svc-" not in seen["text"]
    # one category for a missing severity
    severities = {t["name"] for t in seen["charts"]["incidents-per-month"]["traces"]}
    backlog = {x for t in seen["charts"]["open-backlog"]["traces"] for x in t["x"]}
    assert "not set" in severities and not {"UNSET", "none"} & (severities | backlog)


def test_error_budget_has_the_100_percent_line(seen):
    chart = seen["charts"]["error-budget"]
    assert any(s["x0"] == 100 and s["x1"] == 100 and s["width"] >= 2 for s in chart["shapes"])
    assert "100 % = budget exhausted" in chart["annotations"]
    assert all(v <= 200 for t in chart["traces"] for v in t["x"])


def test_no_nan_or_undefined_and_every_table_says_how_much_it_shows(seen):
    assert not re.search(r"\bNaN\b|undefined|\bNone\b", seen["text"])
    assert len(seen["showing"]) == seen["tables"] > 0
    for note in seen["showing"]:
        shown, total = map(lambda n: int(n.replace(",", "")),
                           re.match(r"Showing ([\d,]+) of ([\d,]+) ", note).groups())
        assert 0 < shown <= total and "Full table: reliability." in note, note
    assert SCREENSHOT.stat().st_size > 100_000
