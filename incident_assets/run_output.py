"""What a user reads while a headless Dagster run works (`make demo`, `make run`), picked from
its console output: the assets' log lines, warnings, checks that did not pass, and a failed
step's one sentence."""

from __future__ import annotations

import re
from typing import IO, Optional

from incident_assets.settings import RAW_SCHEMA

# A Dagster console line: `2026-12-01 21:35:12 +0000 - dagster - INFO - <job> - <run id> - <rest>`.
# DEBUG lines are Dagster's own events; INFO and WARNING are the assets' log lines; ERROR the
# failures (with Dagster's stack traces, which stay in the run's event log).
DAGSTER_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d (?P<time>\d\d:\d\d:\d\d) [+-]\d{4} - dagster - (?P<level>[A-Z]+) - "
    r"\S+ - [0-9a-f-]{36} - (?P<rest>.*)$"
)
# dlt's own log lines: `2026-12-01 21:34:42,402|[WARNING]|pid|thread|dlt|file|func:line|message`
DLT_LINE = re.compile(r"^\d{4}-\d\d-\d\d (?P<time>\d\d:\d\d:\d\d),\d+\|\[(?P<level>[A-Z]+)\]\|(?:[^|]*\|){5}(?P<rest>.*)$")
# `dagster._core.definitions.events.Failure: <description>`, `ValueError: <message>`
EXCEPTION_LINE = re.compile(r"^(?P<cls>[A-Za-z_][\w.]*): (?P<message>.+)$")


class RunOutput:
    """Turns Dagster's console output into what a user reads while a run works: the assets'
    log lines (progress, one per endpoint and per report table), warnings, checks that did not
    pass, and a failed step's one sentence. Dagster's own events and stack traces are left out
    (they stay in the run's event log, and the whole output in a log file)."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.failures: list[str] = []
        self._showing = False  # continuation lines of a shown record are shown too
        self._failure: Optional[tuple[str, str, list[str]]] = None  # time, step, its lines

    def feed(self, line: str) -> None:
        line = line.rstrip("\n")
        record = DAGSTER_LINE.match(line) or DLT_LINE.match(line)
        if record is None:
            if self._failure is not None:
                self._failure[2].append(line)
            elif self._showing and line.strip():
                self._write(f"         {line}")
            return
        self._end_failure()
        self._showing = False
        level, rest = record["level"], record["rest"]
        if level == "DEBUG":
            self._show_event(record["time"], rest)
        elif " - STEP_FAILURE - " in rest:
            head, message = rest.split(" - STEP_FAILURE - ", 1)
            self._failure = (record["time"], head.split(" - ")[-1], [message])
        elif level in ("INFO", "WARNING"):
            # `<step> - <message>` for the assets' own lines
            message = rest.split(" - ", 1)[-1] if record.re is DAGSTER_LINE else rest
            self._write(f"{record['time']} {'' if level == 'INFO' else level.lower() + ': '}{message}")
            self._showing = True

    def _show_event(self, time_: str, rest: str) -> None:
        """Of Dagster's events: a raw table landing in the destination, a check not passing."""
        for event, show in (("ASSET_MATERIALIZATION", loaded_table), ("ASSET_CHECK_EVALUATION", failed_check)):
            parts = rest.split(f" - {event} - ", 1)
            if len(parts) == 2 and (line := show(parts[1].strip())):
                self._write(f"{time_} {line}")

    def close(self) -> None:
        self._end_failure()

    def _end_failure(self) -> None:
        if self._failure is None:
            return
        time_, step, lines = self._failure
        self._failure = None
        sentence = f"{step}: {failure_sentence(lines)}"
        if sentence not in self.failures:
            self.failures.append(sentence)
            self._write(f"{time_} FAILED {sentence}")

    def _write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


def loaded_table(message: str) -> Optional[str]:
    """`Materialized value incident_api incidents.` -> `loaded incident_api/incidents` (the
    report tables have lines of their own)."""
    key = message.removeprefix("Materialized value ").rstrip(".").split(" ")
    return f"loaded {'/'.join(key)}" if key[0] == RAW_SCHEMA else None


def failed_check(message: str) -> Optional[str]:
    return message if " did not pass." in message else None


def failure_sentence(lines: list[str]) -> str:
    """The error's own words in a STEP_FAILURE record: the last `<exception>: <message>` line
    outside the stack traces (the root cause, after Dagster's wrappers); a `dagster.Failure`
    without its class name."""
    found = [m for line in lines if (m := EXCEPTION_LINE.match(line))]
    if not found:
        return lines[0].strip()
    cls, message = found[-1]["cls"], found[-1]["message"]
    return message if cls.rsplit(".", 1)[-1] == "Failure" else f"{cls.rsplit('.', 1)[-1]}: {message}"
