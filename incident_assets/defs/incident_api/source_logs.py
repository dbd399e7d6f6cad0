"""The dlt source's log lines (page progress, pacing, the Arrow path's fallbacks) in the run's
event log.

The source logs through Python's `logging`, under its package's logger, as a plain dlt source
does; it knows nothing of Dagster. For the duration of a load, the ingestion asset forwards
that logger to `context.log`, so the lines reach the run's event log in the UI and the terminal
of a headless run (where `run_output.py` picks them up).
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

import dagster as dg

import incident_assets.incident_api

SOURCE_LOGGER = logging.getLogger(incident_assets.incident_api.__name__)


class _ToRunLog(logging.Handler):
    """Hands each record to the run's log manager (from any of dlt's extraction threads)."""

    def __init__(self, run_log: dg.DagsterLogManager) -> None:
        super().__init__()
        self.run_log = run_log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.run_log.log(record.levelno, record.getMessage())
        except Exception:
            self.handleError(record)


@contextmanager
def source_logs_in_run_log(context: dg.AssetExecutionContext) -> Iterator[None]:
    """Within the block, the source's INFO lines and above also go to the run's log."""
    handler = _ToRunLog(context.log)
    level = SOURCE_LOGGER.level
    if SOURCE_LOGGER.getEffectiveLevel() > logging.INFO:
        SOURCE_LOGGER.setLevel(logging.INFO)
    SOURCE_LOGGER.addHandler(handler)
    try:
        yield
    finally:
        SOURCE_LOGGER.removeHandler(handler)
        SOURCE_LOGGER.setLevel(level)
