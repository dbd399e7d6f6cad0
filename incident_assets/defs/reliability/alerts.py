"""Alerts from the report checks without Dagster+: a chat webhook hears about transitions only.

When `INCIDENT_ASSETS_ALERT_WEBHOOK_URL` is set (the `report_settings` resource's
`alert_webhook_url`), a check that starts failing posts one message
(`{"text": ...}`, which Slack, Mattermost and Teams incoming webhooks accept), a check that keeps
failing posts nothing more, and one that passes again posts once that it recovered.

Where the previous state comes from: every alert that was posted is recorded as an
`AssetObservation` on the checked report asset (tag `incident_assets/alert`, the check's name and
its new state in the metadata), so the asset's event log in the UI shows when each alert went
out. The next evaluation reads the latest of them through `DagsterInstance.fetch_observations`,
a public API (Dagster has no public reader of past check evaluations). Observations do not
count as updates of a materialized asset, so they start no automation. A post that fails records
nothing: the next evaluation tries again rather than losing the alert.

The URL is a secret (its path is the credential): it is never logged, never in metadata, never
in an error; a webhook that is down or refuses the post is a warning in the run log, never a
failed run.
"""

from __future__ import annotations

from typing import Optional

import dagster as dg
import requests

from incident_assets.defs.reliability.report_config import ALERT_WEBHOOK_ENV

ALERT_TAG = "incident_assets/alert"
FAILING, PASSING = "failing", "passing"
POST_TIMEOUT_SECONDS = 10
OBSERVATIONS_READ = 100  # the asset's latest observations searched for the check's last alert


def last_alerted_state(instance: dg.DagsterInstance, asset_key: dg.AssetKey, check_name: str) -> str:
    """The state the webhook last heard of for this check; passing when it never heard of it."""
    records = instance.fetch_observations(dg.AssetRecordsFilter(asset_key=asset_key), limit=OBSERVATIONS_READ).records
    for record in records:  # newest first
        observation = record.asset_observation
        if observation is None or observation.tags.get(ALERT_TAG) != check_name:
            continue
        state = observation.metadata.get("alert_state")
        return str(state.value) if state is not None else PASSING
    return PASSING


def alert_text(check_name: str, asset_key: dg.AssetKey, state: str, description: str) -> str:
    where = f"`{check_name}` on `{asset_key.to_user_string()}`"
    if state == FAILING:
        return f":warning: incident_assets: {where} started failing (WARN). {description}"
    return f":white_check_mark: incident_assets: {where} passes again. {description}"


def post(url: str, text: str) -> Optional[str]:
    """Posts the message; None when the webhook took it, else why not, without the URL."""
    try:
        response = requests.post(url, json={"text": text}, timeout=POST_TIMEOUT_SECONDS, allow_redirects=False)
    except Exception as e:  # noqa: BLE001 - requests' messages quote the URL: name the kind only
        return f"not reached ({type(e).__name__})"
    if not 200 <= response.status_code < 300:
        return f"answered HTTP {response.status_code}"
    return None


def announce_transition(context: dg.AssetCheckExecutionContext, result: dg.AssetCheckResult,
                        url: Optional[str]) -> None:
    """Posts the check's transition, if it is one, to `url` (None: no alerts) and records it; never raises."""
    if url is None:
        return
    asset_key, check_name = result.asset_key, result.check_name
    assert asset_key is not None and check_name is not None
    state = PASSING if result.passed else FAILING
    try:
        previous = last_alerted_state(context.instance, asset_key, check_name)
    except Exception as e:  # noqa: BLE001 - alerting must never fail the check
        context.log.warning(f"alert for {check_name}: the previous alert state could not be read "
                            f"({type(e).__name__}); nothing posted")
        return
    if previous == state:
        return
    text = alert_text(check_name, asset_key, state, result.description or "")
    problem = post(url, text)
    if problem:
        context.log.warning(f"alert for {check_name} ({state}): the webhook in {ALERT_WEBHOOK_ENV} {problem}; "
                            "the check result stands and the alert is tried again at the next evaluation")
        return
    context.log.info(f"alert for {check_name} posted: {state}")
    context.op_execution_context.log_event(dg.AssetObservation(
        asset_key=asset_key,
        description=f"alert posted: {check_name} {state}",
        tags={ALERT_TAG: check_name},
        metadata={"alert_check": check_name, "alert_state": state, "alert_text": text},
    ))
