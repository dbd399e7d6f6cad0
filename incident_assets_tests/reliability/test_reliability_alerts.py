"""Alerts of the report checks, posted to a real HTTP receiver on 127.0.0.1: one message per
transition (failing, then recovered), nothing while a check stays where it was, a warning (not
a failed run) when the webhook is down, and the secret URL nowhere in logs or metadata."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import dagster as dg
import pytest

from incident_assets.defs.reliability.alerts import ALERT_WEBHOOK_ENV
from incident_assets.defs.reliability.assets import report_assets, report_run_config
from incident_assets.defs.reliability.checks import report_checks
from incident_assets_tests.ingestion import materialize
from incident_assets_tests.reliability_inputs import loaded_destination
from incident_assets_tests.reliability_inputs_trends import AS_OF_TRENDS_ISO, TRENDS

SECRET = "T0KEN-4f9c2e-s3cr3t"
MTTX_CHANGE = dg.AssetKey(["reliability", "mttx_change"])


class Receiver:
    """An incoming-webhook endpoint: records each JSON body; answers `status`."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == f"/hooks/{SECRET}":
                    receiver.messages.append(json.loads(body))
                self.send_response(receiver.status if self.path == f"/hooks/{SECRET}" else 404)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/{SECRET}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


def run(instance: dg.DagsterInstance, select: list[dg.AssetKey] | None = None,
        **config: Any) -> dg.ExecuteInProcessResult:
    tables = None if select is None else [key.path[-1] for key in select]
    result = materialize([*report_assets, *report_checks], instance=instance, selection=select,
                         run_config=report_run_config(tables, as_of=AS_OF_TRENDS_ISO, **config))
    assert result.success  # a failing check (WARN) or a webhook that is down never fails the run
    return result


def regression(result: dg.ExecuteInProcessResult) -> bool:
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "mttx_regression"]
    return evaluation.passed


def warnings(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> list[str]:
    return [e.user_message for e in instance.all_logs(result.run_id) if e.level == 30 and "alert" in e.user_message]


def test_one_message_per_transition(monkeypatch, tmp_path, receiver, caplog):
    dest = loaded_destination("duckdb", tmp_path, TRENDS)
    for name, value in {**dest.env(), ALERT_WEBHOOK_ENV: receiver.url}.items():
        monkeypatch.setenv(name, value)
    only_change = [MTTX_CHANGE]
    with dg.DagsterInstance.ephemeral() as instance:
        runs = [run(instance)]  # everything: mttx_regression starts failing, the other three pass
        assert not regression(runs[-1])
        assert [m["text"] for m in receiver.messages] == [
            ":warning: incident_assets: `mttx_regression` on `reliability/mttx_change` started failing (WARN). "
            "1 regression: MTTR of service Worse: p50 48 min -> 115 min (+142 %, z = 3.1, 6 vs 8 incidents)"]

        runs.append(run(instance, only_change))  # still failing: nothing more
        assert not regression(runs[-1]) and len(receiver.messages) == 1

        runs.append(run(instance, only_change, min_change_pct=500.0))  # recovered: one message
        assert regression(runs[-1])
        assert receiver.messages[-1]["text"] == (
            ":white_check_mark: incident_assets: `mttx_regression` on `reliability/mttx_change` passes again. "
            "no evidence that MTTA or MTTR got worse (overall, per service, per team)")
        runs.append(run(instance, only_change, min_change_pct=500.0))  # still passing: nothing
        assert len(receiver.messages) == 2

        receiver.status = 500  # it fails again, but the webhook refuses the post: a warning, retried later
        runs.append(run(instance, only_change))
        assert len(receiver.messages) == 3 and not regression(runs[-1])
        assert warnings(instance, runs[-1]) == [
            f"alert for mttx_regression (failing): the webhook in {ALERT_WEBHOOK_ENV} answered HTTP 500; the check "
            "result stands and the alert is tried again at the next evaluation"]

        port = receiver.server.server_port
        receiver.close()  # down: connection refused
        runs.append(run(instance, only_change))
        assert warnings(instance, runs[-1]) == [
            f"alert for mttx_regression (failing): the webhook in {ALERT_WEBHOOK_ENV} not reached (ConnectionError); "
            "the check result stands and the alert is tried again at the next evaluation"]

        back = Receiver()  # up again (another port): the failure not yet announced goes out once
        try:
            monkeypatch.setenv(ALERT_WEBHOOK_ENV, back.url)
            runs.append(run(instance, only_change))
            runs.append(run(instance, only_change))
            assert [m["text"].split(" started failing")[0] for m in back.messages] == [
                ":warning: incident_assets: `mttx_regression` on `reliability/mttx_change`"]
        finally:
            back.close()

        # each posted alert is an observation on the asset, newest first: failing, passing, failing
        observations = instance.fetch_observations(dg.AssetRecordsFilter(asset_key=MTTX_CHANGE), limit=10).records
        assert [r.asset_observation.metadata["alert_state"].value for r in observations] == [
            "failing", "passing", "failing"]

        # the secret URL is nowhere: not in any event (logs, metadata, observations), nor in Python's logs
        for result in runs:
            for entry in instance.all_logs(result.run_id):
                dumped = entry.to_json()
                assert SECRET not in dumped and f":{port}/" not in dumped
        assert SECRET not in caplog.text


def test_no_webhook_no_alerts_no_observations(monkeypatch, tmp_path, receiver):
    dest = loaded_destination("duckdb", tmp_path, TRENDS)
    for name, value in dest.env().items():
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.ephemeral() as instance:
        assert not regression(run(instance))
        assert instance.fetch_observations(dg.AssetRecordsFilter(asset_key=MTTX_CHANGE), limit=10).records == []
    assert receiver.messages == []
