"""`messy=True`: records shaped like a real account's, laid over the tidy rendered ones.

A real account's records are not uniform: free-form objects (labels, custom fields, an alert's
event payloads) carry keys that differ from record to record, some of them non-ASCII; the
same label is a number in one record and a string in the next; an optional field is absent in
one record and null in another; lists are empty here and full there. `dress` adds exactly that
to a rendered record, and `real_account_ratios` (ratios.py) gives the lists a real account's
sizes. Everything stays within FireHydrant's OpenAPI file (free-form objects are declared
`type: object` without properties there).

Each record's dressing is drawn from a generator seeded with its own key, so it is the same
in every run and on every page, and the tidy data (messy off) is untouched.
"""

from __future__ import annotations

import random
import zlib
from typing import Any, Callable

# label keys a real account grows: per team conventions, some in the team's own language
LABEL_KEYS = ("team", "cost_center", "customer_tier", "région", "équipe", "Kostenstelle",
              "顧客", "runbook-url", "Owner Email", "priorityScore", "sla_minutes", "ticket")
LABEL_TEXT = ("Zürich", "São Paulo", "東京", "checkout", "payments", "gold", "Ωmega", "nuit",
              "https://runbooks.acme.example/π")
CUSTOM_FIELDS = (("Customer impact", "string"), ("Affected region", "string"),
                 ("Revenue at risk (€)", "string"), ("Root cause category", "string"))
CONTEXT_TYPES = ("Alert", "ChangeEvent", "Service")
# an alert's event payload: what its integration sends, keys and types its own
PAYLOAD_KEYS = ("value", "threshold", "host", "métrique", "région", "query", "évaluation",
                "alertname", "Severity", "value_ms")


def record_rng(key: str) -> random.Random:
    """A generator for one record: same key, same dressing (crc32 is stable across processes)."""
    return random.Random(zlib.crc32(key.encode()))


def number_or_text(rng: random.Random, number: int) -> Any:
    """The same value, sent as a number by one integration and as a string by another."""
    return number if rng.random() < 0.5 else str(number)


def labels(rng: random.Random, keys: tuple[str, ...] = LABEL_KEYS) -> dict[str, Any]:
    """0-5 labels with keys of their own; numbers sometimes sent as strings."""
    out: dict[str, Any] = {}
    for key in rng.sample(keys, rng.choice((0, 1, 2, 3, 5))):
        if key in ("cost_center", "priorityScore", "sla_minutes", "Kostenstelle"):
            out[key] = number_or_text(rng, rng.randrange(1, 9000))
        elif key == "ticket":
            out[key] = None if rng.random() < 0.3 else f"ACME-{rng.randrange(1000, 9999)}"
        else:
            out[key] = rng.choice(LABEL_TEXT)
    return out


def custom_fields(rng: random.Random) -> list[dict[str, Any]]:
    """None, or a few of the organisation's custom fields, each with the keys it happens to have."""
    out = []
    for name, value_type in rng.sample(CUSTOM_FIELDS, rng.choice((0, 0, 1, 2, 4))):
        field = {"name": name, "value_type": value_type, "slug": name.lower().replace(" ", "_"),
                 "field_id": "%032x" % rng.getrandbits(128)}
        if rng.random() < 0.5:
            field["display_name"] = name
        field["value_string" if rng.random() < 0.7 else "value"] = rng.choice(LABEL_TEXT)
        out.append(field)
    return out


def drop_or_null(record: dict[str, Any], rng: random.Random, *names: str) -> None:
    """An optional field with no value: absent from one record, null in the next."""
    for name in names:
        if record.get(name) is None and rng.random() < 0.5:
            record.pop(name, None)


def incident(record: dict[str, Any], rng: random.Random) -> None:
    record["labels"] = labels(rng)
    record["custom_fields"] = custom_fields(rng)
    roll = rng.random()
    if roll < 0.4:  # what the incident was declared from: absent, null, or some of its keys
        context = {"object_type": rng.choice(CONTEXT_TYPES), "object_id": "%032x" % rng.getrandbits(128)}
        if rng.random() < 0.5:
            context["context_description"] = rng.choice(LABEL_TEXT)
        record["context_object"] = context
    elif roll < 0.7:
        record["context_object"] = None
    drop_or_null(record, rng, "customer_impact_summary", "priority", "report_id")


def payload(rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in rng.sample(PAYLOAD_KEYS, rng.randint(1, 4)):
        if key.startswith("value"):
            out[key] = number_or_text(rng, rng.randrange(100))
        elif key == "threshold":  # a number from one monitor, a condition from another
            out[key] = rng.randrange(100) if rng.random() < 0.5 else f"> {rng.randrange(100)} %"
        else:
            out[key] = rng.choice(LABEL_TEXT)
    return out


def alert(record: dict[str, Any], rng: random.Random) -> None:
    record["labels"] = {**record["labels"], **labels(rng)}
    if rng.random() < 0.3:
        record["tags"] = []
    # the events the integration sent: none yet, or a few payloads of its own shape
    record["events"] = [{"id": "%032x" % rng.getrandbits(128), "type": rng.choice(("trigger", "update")),
                         "data": payload(rng), "created_at": record["starts_at"]}
                        for _ in range(rng.choice((0, 0, 1, 2)))]
    drop_or_null(record, rng, "ends_at", "duration_ms", "signal_id", "team_id", "team_name")


def change_event(record: dict[str, Any], rng: random.Random) -> None:
    record["labels"] = {**record["labels"], **labels(rng)}
    drop_or_null(record, rng, "ends_at", "duration_ms", "duration_iso8601")


def ticket(record: dict[str, Any], rng: random.Random) -> None:
    if rng.random() < 0.3:
        record["tag_list"] = ["follow-up", rng.choice(LABEL_TEXT)] if record["tag_list"] else [rng.choice(LABEL_TEXT)]
    drop_or_null(record, rng, "due_at", "priority", "task_id", "incident_id", "incident_name",
                 "incident_current_milestone")


def retrospective(record: dict[str, Any], rng: random.Random) -> None:
    if rng.random() < 0.4:
        record["additional_details"] = [rng.choice(LABEL_TEXT) for _ in range(rng.randint(1, 3))]
    record["tag_list"] = record["tag_list"] + ([rng.choice(LABEL_TEXT)] if rng.random() < 0.3 else [])


def labelled(record: dict[str, Any], rng: random.Random) -> None:
    record["labels"] = {**(record.get("labels") or {}), **labels(rng)}


DRESSERS: dict[str, Callable[[dict[str, Any], random.Random], None]] = {
    "incidents": incident, "alerts": alert, "change_events": change_event, "tickets": ticket,
    "retrospectives": retrospective, "scheduled_maintenances": labelled, "services": labelled,
    "functionalities": labelled,
}


def dress(resource: str, key: str, record: dict[str, Any]) -> dict[str, Any]:
    """A real account's version of a rendered record (a copy; the tidy one is left alone)."""
    dresser = DRESSERS.get(resource)
    if dresser is None:
        return record
    messy = dict(record)
    dresser(messy, record_rng(f"{resource}:{key}"))
    return messy
