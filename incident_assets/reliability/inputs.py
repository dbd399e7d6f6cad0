"""The raw relations and columns the report SQL reads, with the types it expects.

dlt creates a child table only once some row has data for it, and a column only once some
row has a non-null value, so a small or young dataset lacks some of these. The runner reads
them through views in `INPUT_SCHEMA` that always have every column below: a missing column
is a typed NULL, a missing table an empty relation. The raw schema itself is never altered
(dlt owns it and would trip over tables or columns it did not create).
"""

from __future__ import annotations

from incident_assets.settings import REPORT_SCHEMA

INPUT_SCHEMA = f"{REPORT_SCHEMA}_inputs"

TEXT = "text"
TIMESTAMP = "timestamp with time zone"
BIGINT = "bigint"


def _cols(types: str, *names: str) -> dict[str, str]:
    return {n: types for n in names}


def _child(**extra: str) -> dict[str, str]:
    # every dlt child table links to its parent row through _dlt_parent_id
    return {"_dlt_parent_id": TEXT, **extra}


RAW_INPUTS: dict[str, dict[str, str]] = {
    "incidents": {
        **_cols(TEXT, "_dlt_id", "id", "name", "severity", "priority", "current_milestone", "report_id",
                "incident_url"),
        "number": BIGINT,
        **_cols(TIMESTAMP, "created_at", "started_at", "discarded_at"),
    },
    "incidents__milestones": _child(type=TEXT, occurred_at=TIMESTAMP),
    "incidents__services": _child(id=TEXT, name=TEXT),
    "incidents__environments": _child(id=TEXT, name=TEXT),
    "incidents__functionalities": _child(id=TEXT, name=TEXT),
    # how an incident hurts each service: the condition weighs its downtime
    "incidents__impacts": _child(type=TEXT, impact__id=TEXT, condition__name=TEXT, condition__position=BIGINT),
    "incidents__team_assignments": _child(status=TEXT, team__id=TEXT, team__name=TEXT),
    "incidents__role_assignments": _child(
        status=TEXT, incident_role__id=TEXT, incident_role__name=TEXT,
        user__id=TEXT, user__name=TEXT, user__email=TEXT, created_at=TIMESTAMP,
    ),
    "services": {**_cols(TEXT, "_dlt_id", "id", "name", "owner__id", "owner__name"), "service_tier": BIGINT},
    "services__functionalities": _child(id=TEXT, name=TEXT),
    "functionalities": _cols(TEXT, "_dlt_id", "id", "name"),
    "functionalities__services": _child(id=TEXT, name=TEXT),
    "environments": _cols(TEXT, "id", "name"),
    "teams": _cols(TEXT, "id", "name"),
    "webhooks": _cols(TEXT, "_dlt_id", "id", "url", "state"),
    "webhooks__subscriptions": _child(value=TEXT),
    "users": _cols(TEXT, "id", "name", "email"),
    "change_events": {**_cols(TEXT, "_dlt_id", "id", "summary"), "starts_at": TIMESTAMP},
    "change_events__services": _child(id=TEXT, name=TEXT),
    "retrospectives": _cols(TEXT, "id", "incident_id"),
    "tickets": {**_cols(TEXT, "id", "type", "state", "incident_id"),
                **_cols(TIMESTAMP, "created_at", "updated_at", "due_at")},
    "alerts": {**_cols(TEXT, "_dlt_id", "id", "team_id", "team_name"), **_cols(TIMESTAMP, "starts_at", "ends_at")},
    "alerts__incidents": _child(id=TEXT),
    "scheduled_maintenances": {"_dlt_id": TEXT, **_cols(TIMESTAMP, "starts_at", "ends_at")},
    "scheduled_maintenances__impacts": _child(type=TEXT, impact__id=TEXT),
}

