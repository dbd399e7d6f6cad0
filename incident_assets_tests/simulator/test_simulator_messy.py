"""The simulator's `messy=True` profile: a real account's record shapes and list sizes, still
within FireHydrant's OpenAPI file, and the tidy data left exactly as it was."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from typing import Any, Iterator

import pytest
import requests

from incident_assets.simulator import DEFAULT_TOKEN, RESOURCES, Simulator
from incident_assets_tests.simulator.test_simulator import (
    ENVELOPE_DECLARED_AS_ITEM, ITEM_PATHS, KNOWN_DEFECTS, LIST_PATHS, deviations, openapi, schema_of)

# what a real account adds to the OpenAPI file's known defects: fields it documents as
# required that a real record leaves null
MESSY_DEFECTS = {"incidents": {"context_object": "null"}}


@pytest.fixture(scope="module")
def messy() -> Iterator[Simulator]:
    with Simulator(incidents=900, seed=5, messy=True) as sim:
        yield sim


def page(sim: Simulator, resource: str) -> dict[str, Any]:
    return requests.get(sim.base_url + LIST_PATHS[resource][3:], params={"per_page": 200},
                        headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}, timeout=30).json()


@pytest.mark.parametrize("resource", RESOURCES)
def test_messy_records_still_conform_to_the_openapi_file(messy: Simulator, resource: str) -> None:
    allowed = set(KNOWN_DEFECTS[resource].items()) | set(MESSY_DEFECTS.get(resource, {}).items())
    body = page(messy, resource)
    if resource in ENVELOPE_DECLARED_AS_ITEM:
        page_schema = {"$ref": "#/components/schemas/PaginationEntity", "components": openapi()["components"]}
        found = deviations(page_schema, body["pagination"])
        for item in body["data"]:
            found |= deviations(schema_of(LIST_PATHS[resource]), item)
    else:
        found = deviations(schema_of(LIST_PATHS[resource]), body)
    assert body["data"] and found <= allowed, found - allowed
    one = messy.records(resource)[-1]
    assert deviations(schema_of(ITEM_PATHS[resource]), one) <= allowed


def test_messy_records_look_like_a_real_accounts(messy: Simulator) -> None:
    incidents, alerts = messy.records("incidents"), messy.records("alerts")
    label_keys = Counter(k for i in incidents for k in i["labels"])
    # keys differ from record to record, some not ASCII
    assert len(label_keys) >= 10 and {"région", "顧客"} <= set(label_keys)
    assert any(not i["labels"] for i in incidents) and any(len(i["labels"]) >= 5 for i in incidents)
    # the same label a number here, a string there
    cost_centers = {type(i["labels"]["cost_center"]) for i in incidents if "cost_center" in i["labels"]}
    assert cost_centers == {int, str}
    # absent in one record, null in the next; empty and non-empty lists side by side
    assert {("context_object" in i, i.get("context_object") is None) for i in incidents} == {
        (False, True), (True, True), (True, False)}
    assert {"ends_at" in a for a in alerts if a.get("ends_at") is None} == {True, False}
    assert {bool(a["events"]) for a in alerts} == {True, False}
    assert {bool(i["custom_fields"]) for i in incidents} == {True, False}
    payload_values = {type(e["data"]["value"]) for a in alerts for e in a["events"] if "value" in e["data"]}
    assert payload_values == {int, str}
    # non-ASCII text goes over the wire as UTF-8, as a real API sends it
    raw = requests.get(messy.base_url + "/incidents", params={"per_page": 200},
                       headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}, timeout=30).content
    assert "région".encode() in raw and b"\\u" not in raw


def test_messy_lists_have_a_real_accounts_ratios(messy: Simulator) -> None:
    n = messy.count("incidents")
    per_incident = {r: round(messy.count(r) / n, 2) for r in ("tickets", "alerts", "change_events")}
    assert per_incident == {"tickets": 1.2, "alerts": 1.0, "change_events": 0.33}
    severity = {i["id"]: i["severity"] for i in messy.records("incidents")}
    reviewed = Counter(severity[r["incident_id"]] for r in messy.records("retrospectives"))
    total = Counter(severity.values())
    assert reviewed["SEV1"] / total["SEV1"] >= 0.9 and reviewed["SEV2"] / total["SEV2"] >= 0.75
    # every retrospective's incident points back at it
    report_of = {i["id"]: i.get("report_id") for i in messy.records("incidents")}
    assert all(report_of[r["incident_id"]] == r["id"] for r in messy.records("retrospectives"))


def test_messy_is_deterministic_and_leaves_the_tidy_data_alone() -> None:
    with Simulator(incidents=120, seed=5, messy=True) as a, Simulator(incidents=120, seed=5, messy=True) as b:
        assert page(a, "alerts") == page(b, "alerts") and page(a, "incidents") == page(b, "incidents")
    with Simulator(incidents=120, seed=5) as tidy:
        incidents = tidy.records("incidents")
        assert all(i["labels"] == {} and "context_object" not in i for i in incidents)
        assert all("events" not in a for a in tidy.records("alerts"))
        assert tidy.count("change_events") == 120


def test_cli_flag_messy() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "incident_assets.simulator", "--port", "0",
                             "--incidents", "30", "--messy"], stdout=subprocess.PIPE, text=True)
    try:
        base_url = proc.stdout.readline().strip()
        body = requests.get(base_url + "/alerts", headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
                            timeout=10).json()
        assert any("events" in a for a in body["data"])
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
