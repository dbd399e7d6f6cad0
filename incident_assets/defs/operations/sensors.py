"""Sensors that watch every job of the code location.

- `run_failure_recorder`: when a run fails, each asset it was to materialize and did not gets an
  `AssetObservation` with a short summary of why (token-free), visible in the asset's event log
  in the UI; the summary is also logged by the sensor.
- `automation_condition_sensor`: evaluates the assets' automation conditions (the reports are
  eager: they refresh after each load). RUNNING by default.
"""

from collections.abc import Iterable

import dagster as dg

from incident_assets.errors import redact
from incident_assets.incident_api.source import configured_secrets

RUN_FAILURE_SENSOR_NAME = "run_failure_recorder"
AUTOMATION_SENSOR_NAME = "automation_condition_sensor"
FAILURE_TAG = "incident_assets/run_failure"
MAX_REASON_CHARS = 600


def _assets_of_run(instance: dg.DagsterInstance, run: dg.DagsterRun, of_type: dg.DagsterEventType) -> set[dg.AssetKey]:
    records = instance.get_records_for_run(run_id=run.run_id, of_type=of_type, limit=10_000).records
    return {r.event_log_entry.dagster_event.asset_key for r in records if r.event_log_entry.dagster_event}


def unmaterialized_assets(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[dg.AssetKey]:
    """Assets the run planned (or selected) but did not materialize."""
    planned = _assets_of_run(instance, run, dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED)
    if not planned and run.asset_selection:
        planned = set(run.asset_selection)
    done = _assets_of_run(instance, run, dg.DagsterEventType.ASSET_MATERIALIZATION)
    return sorted(planned - done, key=lambda k: k.to_user_string())


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def failure_reasons(context: dg.RunFailureSensorContext) -> list[str]:
    """One line per failed step: the user-facing description, else the error's first line."""
    reasons = []
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            text = data.user_failure_data.description
        elif data.error is not None:
            error = data.error
            while error.cause is not None:  # Dagster's wrapper first, the user code's error last
                error = error.cause
            text = _first_line(error.message)
            if error.cls_name and not text.startswith(error.cls_name):
                text = f"{error.cls_name}: {text}"
        else:
            text = event.message or "step failed"
        reasons.append(f"{event.step_key}: {_first_line(text)}")
    if not reasons:
        reasons.append(_first_line(context.failure_event.message or "the run failed"))
    return reasons


def failure_summary(context: dg.RunFailureSensorContext) -> str:
    run = context.dagster_run
    reasons = "; ".join(failure_reasons(context))
    if len(reasons) > MAX_REASON_CHARS:
        reasons = reasons[: MAX_REASON_CHARS - 3] + "..."
    return redact(f"Run {run.run_id[:8]} of job `{run.job_name}` failed: {reasons}", configured_secrets())


@dg.run_failure_sensor(
    name=RUN_FAILURE_SENSOR_NAME,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records why a run failed, without secrets, as an observation on each asset the run "
    "did not materialize (see the asset's Events in the UI).",
)
def run_failure_recorder(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    summary = failure_summary(context)
    failed = unmaterialized_assets(context.instance, run)
    context.log.warning(summary + (f" (assets not materialized: {len(failed)})" if failed else ""))
    record_failure(context.instance, failed, summary, run, [s.step_key for s in context.get_step_failure_events()])


def record_failure(
    instance: dg.DagsterInstance,
    keys: Iterable[dg.AssetKey],
    summary: str,
    run: dg.DagsterRun,
    failed_steps: list[str],
) -> None:
    for key in keys:
        instance.report_runless_asset_event(
            dg.AssetObservation(
                asset_key=key,
                description=summary,
                tags={FAILURE_TAG: "true"},
                metadata={
                    "failure": dg.MetadataValue.md(summary),
                    "run": dg.MetadataValue.dagster_run(run.run_id),
                    "job": run.job_name,
                    "failed_steps": dg.MetadataValue.json(failed_steps),
                },
            )
        )


automation_condition_sensor = dg.AutomationConditionSensorDefinition(
    AUTOMATION_SENSOR_NAME,
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Evaluates the automation conditions of every asset: the reliability reports refresh "
    "eagerly after each ingestion.",
)
