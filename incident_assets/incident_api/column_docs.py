"""What the main columns of the raw tables hold, declared once beside the endpoint table
(`endpoints.py`): the ingestion assets' column schemas in the Dagster UI carry these words
(built in `incident_assets/defs/incident_api/column_schemas.py`).

Keyed by table (child tables as dlt names them, `<endpoint>__<field>`); a column not listed
here is shown with its type only. dlt's own bookkeeping columns are described for every table.
"""

from __future__ import annotations

DLT_COLUMNS = {
    "_dlt_id": "dlt's id of the row (child rows point at it through _dlt_parent_id)",
    "_dlt_load_id": "the dlt load that wrote the row",
    "_dlt_parent_id": "the _dlt_id of the parent row",
    "_dlt_list_idx": "position of the item in the parent's list",
    "_dlt_root_id": "the _dlt_id of the top-level row",
}
_CREATED = {"created_at": "when the record was created in the API", "updated_at": "when it last changed in the API"}
_NAMED = {"id": "the API's id", "name": "display name", "slug": "short, stable name", "description": "free text"}

COLUMN_DOCS: dict[str, dict[str, str]] = {
    "incidents": {
        "id": "the API's incident id (merge key)",
        "number": "the incident's number, as people refer to it (#123)",
        "name": "title",
        "summary": "short summary",
        "description": "free text",
        "customer_impact_summary": "what customers saw",
        "severity": "severity slug (SEV1 ... SEV5, GAMEDAY, MAINTENANCE; UNSET or empty when not set)",
        "priority": "priority slug (P1 ... P4)",
        "current_milestone": "the latest lifecycle milestone (started, acknowledged, ..., resolved)",
        "started_at": "when the incident started (the clock every MTTx starts from)",
        "discarded_at": "when it was archived; archived incidents are kept but left out of the reports",
        "incident_url": "link to the incident in the incident tool",
        "active": "whether the incident is still open",
        "labels": "free-form labels, one JSON value",
        "custom_fields": "organisation-defined fields, one JSON value",
        **_CREATED,
    },
    "incidents__milestones": {
        "type": "milestone (started, detected, acknowledged, mitigated, resolved, postmortem_completed, ...)",
        "occurred_at": "when the milestone was reached",
    },
    "incidents__services": {"id": "the impacted service's id", "name": "its name when the incident was loaded"},
    "incidents__impacts": {
        "type": "what is impacted: service, environment or functionality",
        "impact__id": "the impacted item's id",
        "condition__name": "how bad (Unavailable, Partially Unavailable, Degraded, ...): weighs the downtime",
        "condition__position": "the condition's rank, 0 = worst",
    },
    "incidents__role_assignments": {
        "status": "active or inactive", "incident_role__name": "the role (Commander, ...)",
        "user__id": "the responder's user id", "user__name": "the responder", "created_at": "when assigned",
    },
    "incidents__team_assignments": {"status": "active or inactive", "team__id": "team id", "team__name": "team"},
    "services": {
        **_NAMED,
        "service_tier": "tier 1 (most critical) to 5: sets the SLO target",
        "owner__id": "the owning team's id",
        "owner__name": "the owning team",
        "labels": "free-form labels, one JSON value",
        **_CREATED,
    },
    "functionalities": {**_NAMED, "owner__name": "the owning team", **_CREATED},
    "environments": {**_NAMED, **_CREATED},
    "teams": {**_NAMED, "in_support_hours": "whether the team is in its support hours", **_CREATED},
    "users": {"id": "the API's user id", "name": "the person", "email": "email address", **_CREATED},
    "webhooks": {"id": "the API's id", "url": "target URL", "state": "active or paused", **_CREATED},
    "severities": {"slug": "the severity (merge key), e.g. SEV1", "description": "what it means",
                   "position": "rank, 0 = most severe", "type": "kind of severity"},
    "priorities": {"slug": "the priority (merge key), e.g. P1", "description": "what it means",
                   "position": "rank, 0 = most urgent", "default": "the default priority"},
    "incident_roles": {**_NAMED, "summary": "what the role does", "discarded_at": "when it was archived"},
    "change_events": {
        "id": "the API's id", "summary": "what changed", "starts_at": "when the change started",
        "ends_at": "when it ended", "external_id": "id in the deploy / change tool", **_CREATED,
    },
    "change_events__services": {"id": "the changed service's id", "name": "its name"},
    "retrospectives": {"id": "the API's id", "name": "title", "incident_id": "the reviewed incident", **_CREATED},
    "tickets": {
        "id": "the API's id", "type": "follow_up (an action item), task or incident", "state": "open, in_progress, done, cancelled",
        "summary": "what is to be done", "incident_id": "the incident it follows up", "due_at": "due date",
        **_CREATED,
    },
    "alerts": {
        "id": "the API's id", "summary": "what fired", "status": "the alert's status", "priority": "its priority",
        "starts_at": "when it fired", "ends_at": "when it cleared", "team_id": "the team it paged",
        "team_name": "that team", "integration_name": "the monitoring integration that sent it",
    },
    "alerts__incidents": {"id": "the linked incident's id", "number": "its number (text, as the API sends it)"},
    "scheduled_maintenances": {
        "id": "the API's id", "name": "title", "starts_at": "start of the window", "ends_at": "end of the window",
        **_CREATED,
    },
    "scheduled_maintenances__impacts": {"type": "what is taken down: service, environment or functionality",
                                        "impact__id": "its id"},
}


def column_description(table: str, column: str) -> str | None:
    return COLUMN_DOCS.get(table, {}).get(column) or DLT_COLUMNS.get(column)
