"""The loader against a server nobody here wrote: Stoplight Prism, mocking the official
OpenAPI file (`docs/firehydrant-openapi.yaml`), in static and dynamic mode, with request
validation on (`--errors`: a request that breaks the spec gets a 422, and Prism logs it).

What it shows:
- every request the loader (and the new-incident sensor) sends passes Prism's validation;
- the loader survives what the spec allows, with clear messages and no hang.

The spec's own examples are unusable for every list endpoint, so in static mode no endpoint
loads, each for a reason the run names (`UNUSABLE_STATIC_EXAMPLES`). Dynamic mode answers
random values of the declared types (negative page numbers, int32 extremes, records with
or without an `id`): each endpoint either loads or is named with a reason, within seconds.

Prism is installed by `.ci/run` (`npm ci --prefix tools/prism`, pinned in
`tools/prism/package-lock.json`); without it these tests fail, saying how to install it.
"""

from __future__ import annotations

import re
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Iterator

import dagster as dg
import pytest

from incident_assets.incident_api.endpoints import ENDPOINTS
from incident_assets.defs.incident_api.sensors import new_incident_sensor
from incident_assets.settings import PROJECT_ROOT
from incident_assets_tests.ingestion import failure_message, ingest, row_counts

PRISM = PROJECT_ROOT / "tools" / "prism" / "node_modules" / ".bin" / "prism"
SPEC = PROJECT_ROOT / "docs" / "firehydrant-openapi.yaml"
INSTALL_HINT = (
    "Stoplight Prism is not installed: run `npm ci --prefix tools/prism` "
    "(needs Node 20 and npm, e.g. `apt-get install nodejs npm`); `.ci/run` does this"
)
START_SECONDS = 120  # Prism parses the 228-path spec first; slow on a busy 2-core machine
NO_HANG_SECONDS = 60
INT32_MIN = -2147483648

# Why each list endpoint cannot load from the spec's static examples (the messages the run shows).
NEXT_IS_INT32_MIN = "`next` is not a page number (pages start at 1)"
ONE_OBJECT = "answered JSON without a `data` field: one object"
UNUSABLE_STATIC_EXAMPLES = {
    # the envelope example says `pagination.next: -2147483648` (the int32 minimum)
    **{name: NEXT_IS_INT32_MIN for name in (
        "environments", "services", "functionalities", "teams", "incidents", "severities",
        "users", "incident_roles", "change_events", "retrospectives", "alerts",
    )},
    # the spec declares these lists as one entity, and its example is one bare object
    **{name: ONE_OBJECT for name in ("webhooks", "priorities", "tickets", "scheduled_maintenances")},
}
# what a dynamic answer may make an endpoint fail with: each a clear, named reason
DYNAMIC_REASONS = re.compile(
    r"`next` is not a page number|`next` does not come after the page asked for|"
    r"`next` goes past the last page|`next` is not an integer|one object|"
    r"answered `data` as|without a `data` field"
)


class Prism:
    """A Prism mock server on 127.0.0.1, its log collected line by line."""

    def __init__(self, dynamic: bool) -> None:
        if not PRISM.exists():
            pytest.fail(INSTALL_HINT, pytrace=False)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        args = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(self.port), "--errors", str(SPEC)]
        if dynamic:
            args[2:2] = ["-d", "--seed", "7"]
        self.lines: list[str] = []
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def wait_until_listening(self) -> "Prism":
        deadline = time.monotonic() + START_SECONDS
        while not any("Prism is listening" in line for line in self.lines):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail("Prism did not start:\n" + "\n".join(self.lines[-20:]), pytrace=False)
            time.sleep(0.2)
        return self

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def mark(self) -> int:
        return len(self.lines)

    def requests_since(self, mark: int) -> tuple[int, list[str]]:
        """(requests received, validation errors) logged since `mark`."""
        time.sleep(0.5)  # the log trails the answers a little
        lines = self.lines[mark:]
        received = sum("Request received" in line for line in lines)
        return received, [line for line in lines if "[VALIDATOR]" in line and "✖" in line]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="module")
def prisms() -> Iterator[dict[str, Prism]]:
    """Both modes, started together: most of their start-up is parsing the spec."""
    started = {"static": Prism(dynamic=False), "dynamic": Prism(dynamic=True)}
    try:
        yield {mode: prism.wait_until_listening() for mode, prism in started.items()}
    finally:
        for prism in started.values():
            prism.stop()


@pytest.fixture
def static_prism(prisms: dict[str, Prism]) -> Prism:
    return prisms["static"]


@pytest.fixture
def dynamic_prism(prisms: dict[str, Prism]) -> Prism:
    return prisms["dynamic"]


def point_at(monkeypatch: pytest.MonkeyPatch, prism: Prism, db: Path) -> None:
    monkeypatch.setenv("SOURCES__INCIDENT_API__BASE_URL", prism.base_url)
    monkeypatch.setenv("SOURCES__INCIDENT_API__API_TOKEN", "fhb-prism-token")
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(db))
    monkeypatch.setenv("SOURCES__INCIDENT_API__RETRY_BACKOFF_FACTOR", "0.1")
    monkeypatch.setenv("SOURCES__INCIDENT_API__RATE_LIMIT_REQUESTS", "0")  # Prism has no limit


def failed_endpoints(message: str) -> dict[str, str]:
    """`name: reason` pairs of a run's failure message."""
    _, _, details = message.partition(" loaded and committed: ")
    return dict(part.split(": ", 1) for part in details.split("; ") if part)


def timed_ingest() -> dg.ExecuteInProcessResult:
    started = time.monotonic()
    result = ingest(raise_on_error=False)
    assert time.monotonic() - started < NO_HANG_SECONDS
    return result


def test_static_examples_every_endpoint_named_with_its_reason(static_prism, tmp_path, monkeypatch):
    point_at(monkeypatch, static_prism, tmp_path / "prism.duckdb")
    mark = static_prism.mark()
    result = timed_ingest()
    received, invalid = static_prism.requests_since(mark)

    assert invalid == [] and received > 0
    message = failure_message(result)
    assert message.startswith(f"{len(ENDPOINTS)} endpoint(s) not loaded")
    failed = failed_endpoints(message)
    assert set(failed) == set(UNUSABLE_STATIC_EXAMPLES)
    for name, reason in UNUSABLE_STATIC_EXAMPLES.items():
        assert reason in failed[name], (name, failed[name])
    assert str(INT32_MIN) in failed["incidents"]  # what the server sent is named
    assert result.get_asset_materialization_events() == []


def test_static_sensor_refuses_the_negative_count(static_prism, tmp_path, monkeypatch):
    point_at(monkeypatch, static_prism, tmp_path / "prism.duckdb")
    mark = static_prism.mark()
    with dg.DagsterInstance.ephemeral() as instance:
        result = new_incident_sensor(dg.build_sensor_context(cursor="2026-01-01T00:00:00.000Z", instance=instance))
    assert isinstance(result, dg.SkipReason)
    assert f"pagination.count={INT32_MIN}" in result.skip_message and "no run requested" in result.skip_message
    received, invalid = static_prism.requests_since(mark)
    assert (received, invalid) == (1, [])


@pytest.mark.parametrize("attempt", [1, 2])
def test_dynamic_answers_load_or_fail_by_name_without_hanging(dynamic_prism, tmp_path, monkeypatch, attempt):
    db = tmp_path / "prism.duckdb"
    point_at(monkeypatch, dynamic_prism, db)
    mark = dynamic_prism.mark()
    result = timed_ingest()
    received, invalid = dynamic_prism.requests_since(mark)

    assert invalid == [] and received > 0
    loaded = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    failed = {} if result.success else failed_endpoints(failure_message(result))
    assert loaded | set(failed) == {e.name for e in ENDPOINTS} and not loaded & set(failed)
    for name, reason in failed.items():
        assert DYNAMIC_REASONS.search(reason), (name, reason)
    # what loaded is in the destination (random rows: their count is whatever Prism sent)
    assert set(row_counts(db)) <= loaded
