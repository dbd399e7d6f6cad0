"""Every endpoint the project loads, declared once.

One row per dlt resource: its API path, its key, how it syncs, and column hints for the
fields the API documents. `source.py` turns these rows into the dlt source's resources;
nothing else repeats them.

Sync modes:
- `full`: endpoints with no time filter (the catalogs, tickets, alerts, scheduled
  maintenances). Listed whole every run and swapped in atomically (`replace` via a staging
  dataset), so a record removed from the API is removed here too.
- `updated_after`: incidents. No `updated_at` on the item; the server filters by edit time,
  so the loader keeps its own cursor (see `cursors.py`). Merged on `id`.
- `updated_since`: retrospectives, with a real `updated_at` cursor. Merged on `id`.
- `starts_at`: change events, windowed on their start time. Merged on `id`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

# the dlt source's name (its config section `sources.incident_api`), and the first part of
# every ingestion asset's key
SOURCE_NAME = "incident_api"

SyncMode = Literal["full", "updated_after", "updated_since", "starts_at"]

TIMESTAMPS = ("created_at", "updated_at")


def _columns(*names: str, data_type: str, nullable: bool = True) -> dict[str, dict[str, Any]]:
    # `name` repeated inside: dlt's nested_hints, unlike `columns`, does not fill it in
    return {n: {"name": n, "data_type": data_type, "nullable": nullable} for n in names}


def hints(
    text: tuple[str, ...] = (),
    timestamps: tuple[str, ...] = TIMESTAMPS,
    bigint: tuple[str, ...] = (),
    boolean: tuple[str, ...] = (),
    json: tuple[str, ...] = (),
    key: str = "id",
) -> dict[str, dict[str, Any]]:
    """Column hints for one table: the key is non-null text, the rest nullable."""
    return {
        **_columns(key, data_type="text", nullable=False),
        **_columns(*text, data_type="text"),
        **_columns(*timestamps, data_type="timestamp"),
        **_columns(*bigint, data_type="bigint"),
        **_columns(*boolean, data_type="bool"),
        # free-form maps (labels, custom fields, answers) stay one JSON column instead of
        # becoming one column per user-defined key
        **_columns(*json, data_type="json"),
    }


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    description: str
    columns: dict[str, dict[str, Any]]
    primary_key: str = "id"
    sync: SyncMode = "full"
    params: dict[str, Any] = field(default_factory=dict)
    # hints for dlt child tables, keyed by the nested path (e.g. ("milestones",))
    nested: dict[tuple[str, ...], dict[str, dict[str, Any]]] = field(default_factory=dict)
    # the endpoints with many records, every incremental one among them: pages become Arrow
    # tables (`columnar.py`), not rows for dlt's normalizer; child tables are tables of their
    # own. The others (catalogs, a page or two) go through dlt's `rest_api` source.
    arrow: bool = False

    def declared_tables(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Column hints per table name: the root table and its declared child tables."""
        return {
            self.name: self.columns,
            **{"__".join((self.name, *path)): cols for path, cols in self.nested.items()},
        }


def json_column_names(columns: dict[str, dict[str, Any]]) -> set[str]:
    return {n for n, c in columns.items() if c["data_type"] == "json"}


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "environments",
        "environments",
        "Deployment environments (production, staging, ...) incidents can impact.",
        hints(text=("name", "slug", "description")),
    ),
    Endpoint(
        "services",
        "services",
        "The service catalog: tier (1-5), owner team, teams, functionalities and links.",
        hints(
            # `owner` is null for unowned services: declared, or dlt warns it got no data
            text=("name", "slug", "description", "owner", "owner__id", "owner__name", "owner__slug"),
            bigint=("service_tier",),
            boolean=("alert_on_add",),
            json=("labels",),
        ),
        nested={("links",): hints(text=("href_url", "name", "icon_url"), timestamps=())},
    ),
    Endpoint(
        "functionalities",
        "functionalities",
        "User-facing functionalities and the services behind them.",
        hints(text=("name", "slug", "description", "owner__id", "owner__name"), json=("labels",)),
    ),
    Endpoint(
        "teams",
        "teams",
        "Teams with their members (`teams__memberships`) and owned services.",
        hints(text=("name", "slug", "description", "created_by__id", "created_by__name"),
              boolean=("in_support_hours",)),
        # members without a default role: null-only columns unless declared (memberships have no id)
        nested={("memberships",): {
            **_columns("default_incident_role", data_type="text"),
            **_columns("default_incident_role__discarded_at", data_type="timestamp"),
        }},
    ),
    Endpoint(
        "webhooks",
        "webhooks",
        "Outbound webhooks: target URL, state and subscribed event types.",
        hints(text=("url", "state", "created_by__id", "created_by__name")),
    ),
    Endpoint(
        "incidents",
        "incidents",
        "Incidents, archived ones included, with milestones, services, impacts, role and "
        "team assignments as child tables (`incidents__milestones`, ...).",
        hints(
            text=(
                "name", "summary", "description", "customer_impact_summary",
                "current_milestone", "severity", "severity_color", "priority",
                "incident_url", "report_id", "created_by__id", "created_by__name",
                "organization__id", "organization__name",
            ),
            timestamps=("created_at", "started_at", "discarded_at"),
            bigint=("number",),
            boolean=("active",),
            json=("labels", "custom_fields"),
        ),
        sync="updated_after",
        arrow=True,
        # archived incidents are left out of lists unless asked for
        params={"archived": "true"},
        nested={
            ("milestones",): hints(text=("type",), timestamps=("occurred_at", "created_at", "updated_at")),
            ("services",): hints(text=("name",), timestamps=()),
            ("environments",): hints(text=("name",), timestamps=()),
            ("functionalities",): hints(text=("name",), timestamps=()),
            # how the incident hurts each service (availability weighs the condition)
            ("impacts",): hints(
                text=("type", "impact__id", "impact__name", "condition__id", "condition__name"),
                timestamps=(),
                bigint=("condition__position",),
            ),
            ("role_assignments",): hints(
                text=("status", "incident_role__id", "incident_role__name", "user__id", "user__name",
                      "user__email"),
            ),
            ("team_assignments",): hints(
                text=("status", "team__id", "team__name", "team__slug", "team__description"),
            ),
        },
    ),
    Endpoint(
        "severities",
        "severities",
        "Severity levels (SEV1-SEV5, GAMEDAY, MAINTENANCE, ...), keyed by slug.",
        hints(text=("description", "type", "color"), bigint=("position",),
              boolean=("system_record",), key="slug"),
        primary_key="slug",
    ),
    Endpoint(
        "priorities",
        "priorities",
        "Priority levels (P1-P4), keyed by slug.",
        hints(text=("description",), bigint=("position",), boolean=("default",), key="slug"),
        primary_key="slug",
    ),
    Endpoint(
        "users",
        "users",
        "People who respond to incidents.",
        hints(text=("name", "email", "slack_user_id")),
    ),
    Endpoint(
        "incident_roles",
        "incident_roles",
        "Incident roles (commander, communications, ...).",
        hints(text=("name", "summary", "description"),
              timestamps=("created_at", "updated_at", "discarded_at")),
    ),
    Endpoint(
        "change_events",
        "changes/events",
        "Change events (deploys, config changes) with the services they touched.",
        hints(text=("summary", "description", "external_id"),
              timestamps=("starts_at", "ends_at", "created_at", "updated_at"),
              json=("labels",)),
        sync="starts_at",
        # each environment lists every incident open in it: as child rows that is change
        # events x open incidents (12 million rows at 25,000 incidents); one JSON value instead
        nested={("environments",): hints(text=("name", "slug", "description"), json=("active_incidents",))},
        arrow=True,
    ),
    Endpoint(
        "retrospectives",
        "post_mortems/reports",
        "Retrospective (post-mortem) reports, one per reviewed incident.",
        hints(text=("name", "summary", "incident_id"), json=("questions",)),
        sync="updated_since",
        arrow=True,
    ),
    Endpoint(
        "tickets",
        "ticketing/tickets",
        "Tickets: follow-up action items of incidents (`type = follow_up`), tasks and incident "
        "tickets, with their state, due date and assignees (`tickets__assignees`).",
        hints(
            # `priority` is null on tickets without one: declared, or dlt warns it got no data
            text=("summary", "description", "state", "type", "priority", "priority__id",
                  "priority__name",
                  "created_by__id", "created_by__name", "created_by__source", "created_by__email",
                  "incident_id", "incident_name", "incident_current_milestone", "task_id"),
            timestamps=("created_at", "updated_at", "due_at"),
            # the link to the external ticket (Jira, ...): an object of display fields
            json=("link",),
        ),
        nested={
            ("assignees",): hints(text=("name", "source", "email"), timestamps=()),
        },
        # about 1.2 per incident on a real account: the biggest list after alerts
        arrow=True,
    ),
    Endpoint(
        "alerts",
        "alerts",
        "Alerts from monitoring integrations, with the services, environments and incidents "
        "they are linked to (`alerts__services`, `alerts__incidents`, ...).",
        hints(
            text=("summary", "description", "priority", "integration_name", "status", "remote_id",
                  "remote_url", "signal_id", "team_id", "team_name"),
            timestamps=("starts_at", "ends_at"),
            bigint=("duration_ms",),
            boolean=("is_expired",),
            json=("labels",),
        ),
        nested={
            ("services",): hints(text=("name",), timestamps=()),
            ("environments",): hints(text=("name",), timestamps=()),
            # the API sends the incident's number as a string here
            ("incidents",): hints(text=("name", "number"), timestamps=()),
        },
        # often ten times the incidents
        arrow=True,
    ),
    Endpoint(
        "scheduled_maintenances",
        "scheduled_maintenances",
        "Planned maintenance windows and the services, environments and functionalities they "
        "take down on purpose (`scheduled_maintenances__impacts`).",
        hints(
            text=("name", "summary", "description"),
            timestamps=("starts_at", "ends_at", "created_at", "updated_at"),
            # the linked incident is a whole incident object: kept as one JSON value
            json=("labels", "incident", "status_pages"),
        ),
        nested={
            ("impacts",): hints(
                text=("type", "impact__id", "impact__name", "condition__id", "condition__name"),
                timestamps=(),
                bigint=("condition__position",),
            ),
        },
    ),
)

ENDPOINTS_BY_NAME: dict[str, Endpoint] = {e.name: e for e in ENDPOINTS}


def resource_hints(endpoint: Endpoint) -> dict[str, Any]:
    """`dlt.resource` keyword arguments giving an endpoint's tables their declared shape.

    A deep copy each time: dlt and dagster-dlt edit column dicts in place.
    """
    return copy.deepcopy({
        "name": endpoint.name,
        "primary_key": endpoint.primary_key,
        "columns": endpoint.columns,
        # a one-level path as a plain str: rest_api's config validation takes str keys only
        "nested_hints": {
            path[0] if len(path) == 1 else path: {"columns": cols}
            for path, cols in endpoint.nested.items()
        },
    })


def ingestion_asset_path(table: str) -> list[str]:
    """The path of the Dagster asset that loads `table`, `[incident_api, <endpoint>]`, for
    messages that tell what to rematerialize. A child table (`incidents__milestones`) is loaded
    by its endpoint's asset (`incident_api/incidents`)."""
    return [SOURCE_NAME, table.split("__", 1)[0]]
