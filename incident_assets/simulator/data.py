"""The simulator's dataset: records per resource in serving order, rendering, filters, mutations.

Order is stable (creation time, then id) so pagination never skips or duplicates while the
data is static; new incidents append at the end. `version` bumps on every mutation so the
server's caches (filtered lists, rendered records) know when to drop entries.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable

from incident_assets.simulator.catalogs import PARTIALLY_UNAVAILABLE, Catalogs
from incident_assets.simulator.common import uuid_str
from incident_assets.simulator.messy import dress
from incident_assets.simulator.ratios import real_account_ratios
from incident_assets.simulator.operations import generate_operations, render_alert, render_ticket
from incident_assets.simulator.incidents import Incident, generate_change_events, generate_incidents
from incident_assets.simulator.wire_format import render_change_event, render_incident, render_retrospective

CATALOGS = ["environments", "services", "functionalities", "teams", "webhooks", "severities",
            "priorities", "users", "incident_roles"]
OPERATIONS = ["tickets", "alerts", "scheduled_maintenances"]
RESOURCES = CATALOGS[:5] + ["incidents"] + CATALOGS[5:] + ["change_events", "retrospectives"] + OPERATIONS
SLUG_KEYED = {"severities", "priorities"}  # no id: the slug is the key
# records rendering `active_incidents` (change events embed environments)
ACTIVE_DEPENDENT = {"environments", "services", "functionalities", "change_events"}
JSON_CACHE_BYTES = 96 * 1024 * 1024


class BadFilter(ValueError):
    """A malformed filter value: the server answers 400."""


def to_ms(value: str | int | datetime) -> int:
    """A mutation's time argument: ISO-8601 string, datetime, or epoch milliseconds."""
    if isinstance(value, datetime):
        return parse_time(value.isoformat())
    return parse_time(value) if isinstance(value, str) else int(value)


def parse_time(value: str) -> int:
    """ISO-8601 (`Z` or offset; a bare date means midnight UTC) -> epoch ms."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise BadFilter(f"invalid date-time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(round(moment.timestamp() * 1000))


def dumps(obj: Any, ascii_only: bool = True) -> str:
    # fixed key order (insertion) and separators: same data -> byte-identical bodies; a real
    # account's non-ASCII text is sent as UTF-8, not as \u escapes
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=ascii_only)


def now_ms() -> int:
    return int(time.time() * 1000)


def _csv(value: str) -> set[str]:
    return {v.strip() for v in value.split(",") if v.strip()}


def _bool(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes")


class Dataset:
    def __init__(self, incidents: int = 200, seed: int = 7, messy: bool = False,
                 archived_only: bool = False) -> None:
        """`messy`: a real account's records and list sizes (messy.py, ratios.py)."""
        if incidents < 0:
            raise ValueError("incidents must be >= 0")
        # how `archived=true` is read: archived incidents plus the active ones (default), or
        # archived ones only; the API's documentation allows both
        self.archived_only = archived_only
        self.lock = threading.RLock()
        self.version = 0
        self.seed = seed
        self.cat = cat = Catalogs(seed)
        incs, retros = generate_incidents(cat, incidents, seed)
        self.lists: dict[str, list] = {name: list(getattr(cat, name)) for name in CATALOGS}
        self.lists["incidents"] = incs
        self.lists["retrospectives"] = retros
        self.lists["change_events"] = generate_change_events(cat, incs, seed)
        self.lists.update(generate_operations(cat, incs, seed))
        self.messy = messy
        if messy:
            real_account_ratios(cat, self.lists, seed)
        # rendered records, dropped on change; capped so 100k incidents (~4 KB each) stay lean
        self._json: dict[tuple[str, str], str] = {}
        self._json_bytes = 0
        self._active: tuple[int, dict[str, list[str]]] = (-1, {})
        self._index: dict[str, tuple[int, dict[str, Any]]] = {}
        # fields replaced at runtime (set_fields), laid over the rendered record
        self._overrides: dict[tuple[str, str], dict[str, Any]] = {}

    # ------------------------------------------------------------ reading
    @staticmethod
    def key(resource: str, rec: Any) -> str:
        if resource in SLUG_KEYED:
            return rec["slug"]
        return rec["id"] if isinstance(rec, dict) else rec.id

    def find(self, resource: str, key: str) -> Any | None:
        version, index = self._index.get(resource, (-1, {}))
        if version != self.version:  # rebuilt after a mutation, on the next lookup
            index = {self.key(resource, r): r for r in self.lists[resource]}
            self._index[resource] = (self.version, index)
        return index.get(key)

    def active_incidents(self) -> dict[str, list[str]]:
        """Catalog id -> ids of the open, unarchived incidents naming it (the `active_incidents`)."""
        if self._active[0] != self.version:
            out: dict[str, list[str]] = {}
            cat = self.cat
            for inc in self.lists["incidents"]:
                if inc.discarded is not None or inc.current_milestone() in ("resolved", "postmortem_started",
                                                                            "postmortem_completed", "closed"):
                    continue
                ids = [cat.services[s]["id"] for s in inc.services if s >= 0]
                ids += [cat.environments[e]["id"] for e in inc.envs]
                ids += [cat.functionalities[f]["id"] for f in inc.funcs]
                for i in ids:
                    out.setdefault(i, []).append(inc.id)
            self._active = (self.version, out)
        return self._active[1]

    def render(self, resource: str, rec: Any) -> dict:
        key = self.key(resource, rec)
        overrides = self._overrides.get((resource, key))
        rendered = self._render(resource, rec)
        if self.messy:
            rendered = dress(resource, key, rendered)
        return dict(rendered, **overrides) if overrides else rendered

    def _render(self, resource: str, rec: Any) -> dict:
        if resource == "incidents":
            return render_incident(self.cat, rec)
        if resource == "change_events":
            return render_change_event(self.cat, rec, self._env)
        if resource == "retrospectives":
            return render_retrospective(rec)
        if resource == "tickets":
            return render_ticket(self.cat, rec)
        if resource == "alerts":
            return render_alert(self.cat, rec)
        if "active_incidents" in rec:
            return dict(rec, active_incidents=list(self.active_incidents().get(rec["id"], [])))
        return rec

    def _env(self, e: int) -> dict:
        return self.render("environments", self.cat.environments[e])

    def render_json(self, resource: str, rec: Any) -> str:
        ck = (resource, self.key(resource, rec))
        text = self._json.get(ck)
        if text is None:
            text = dumps(self.render(resource, rec), ascii_only=not self.messy)
            if self._json_bytes < JSON_CACHE_BYTES:
                self._json[ck] = text
                self._json_bytes += len(text)
        return text

    def records(self, resource: str) -> list[dict]:
        with self.lock:
            return [json.loads(self.render_json(resource, r)) for r in self.lists[resource]]

    # ------------------------------------------------------------ filters
    def select(self, resource: str, q: dict[str, str]) -> list:
        """The records a list request answers with, in serving order (query values validated)."""
        recs = self.lists[resource]
        tests: list[Callable[[Any], bool]] = []
        if resource == "incidents":
            if not _bool(q.get("archived", "false")):
                tests.append(lambda i: i.discarded is None)
            elif self.archived_only:
                tests.append(lambda i: i.discarded is not None)
            for name, op in (("updated_after", "ge"), ("updated_before", "le")):
                if name in q:
                    t = parse_time(q[name])
                    tests.append((lambda i, t=t: i.updated >= t) if op == "ge" else (lambda i, t=t: i.updated <= t))
            if "start_date" in q:  # incidents started on or after
                t = parse_time(q["start_date"])
                tests.append(lambda i, t=t: i.milestones[0][2] >= t)
            if "end_date" in q:
                t = parse_time(q["end_date"])
                tests.append(lambda i, t=t: i.milestones[0][2] <= t)
            if q.get("severities"):
                sev = _csv(q["severities"])
                tests.append(lambda i: i.severity in sev)
            if q.get("current_milestones"):
                cur = _csv(q["current_milestones"])
                tests.append(lambda i: i.current_milestone() in cur)
        elif resource == "retrospectives":
            if "updated_since" in q:
                t = parse_time(q["updated_since"])
                tests.append(lambda r: r.updated >= t)
            if q.get("incident_id"):
                tests.append(lambda r: r.incident_id == q["incident_id"])
        elif resource == "change_events":
            if "starts_at" in q:  # events starting at or after
                t = parse_time(q["starts_at"])
                tests.append(lambda e: e.starts >= t)
            if "ends_at" in q:  # events that ended (or, without an end, started) at or before
                t = parse_time(q["ends_at"])
                tests.append(lambda e: (e.ends if e.ends is not None else e.starts) <= t)
        elif resource in CATALOGS:
            if q.get("name"):
                tests.append(lambda r: r.get("name") == q["name"])
            if q.get("query"):
                needle = q["query"].lower()
                tests.append(lambda r: needle in str(r.get("name") or r.get("slug") or r.get("url")).lower())
        if not tests:
            return recs
        return [r for r in recs if all(t(r) for t in tests)]

    # ------------------------------------------------------------ mutations
    def _changed(self, resource: str, key: str) -> None:
        self.version += 1
        stale = [(resource, key)] + [ck for ck in self._json if ck[0] in ACTIVE_DEPENDENT]
        for ck in stale:  # the record itself, and those showing active_incidents
            self._json_bytes -= len(self._json.pop(ck, ""))

    def _incident(self, incident_id: str) -> Incident:
        inc = self.find("incidents", incident_id)
        if inc is None:
            raise KeyError(f"no incident {incident_id}")
        return inc

    def resolve_incident(self, incident_id: str, at: str | int | None = None) -> dict:
        with self.lock:
            inc, t = self._incident(incident_id), now_ms()
            when = t if at is None else to_ms(at)
            inc.milestones.append([inc.new_child(), "resolved", when, t, t])
            inc.updated = t
            self._changed("incidents", inc.id)
            return self.render("incidents", inc)

    def edit_milestone(self, incident_id: str, milestone_type: str, occurred_at: str | int) -> dict:
        """Moves the (latest) milestone of that type; adds it when the incident has none."""
        with self.lock:
            inc, t = self._incident(incident_id), now_ms()
            when = to_ms(occurred_at)
            same = [m for m in inc.milestones if m[1] == milestone_type]
            if same:
                target = max(same, key=lambda m: m[2])
                target[2], target[4] = when, t
            else:
                inc.milestones.append([inc.new_child(), milestone_type, when, t, t])
            inc.updated = t
            self._changed("incidents", inc.id)
            return self.render("incidents", inc)

    def add_incident(self) -> dict:
        """A new open incident, started now, on the first service, served last."""
        with self.lock:
            incs, t = self.lists["incidents"], now_ms()
            inc = Incident()
            inc.base = hash_base(self.seed, len(incs) + self.version)
            inc.id = uuid_str(inc.base)
            inc.number = max((i.number for i in incs), default=0) + 1
            inc.name = f"{self.cat.services[0]['name']}: new incident {inc.number}"
            inc.problem, inc.severity, inc.priority, inc.tags = 0, "SEV2", "P1", []
            inc.created = t
            inc.discarded = None
            inc.milestones = [[0, "started", t, t, t]]
            inc.next_child = 100
            inc.services, inc.envs, inc.funcs = [0], [0], []
            inc.conditions = [PARTIALLY_UNAVAILABLE]
            team = self.cat.service_owner[0] if self.cat.service_owner[0] is not None else 0
            inc.teams = [team]
            inc.roles = [[0, self.cat.team_members[team][0], "active", t, t]]
            inc.creator = self.cat.team_members[team][0]
            inc.report_id, inc.updated, inc.impact_note = None, t, False
            incs.append(inc)
            self._changed("incidents", inc.id)
            return self.render("incidents", inc)

    def set_fields(self, resource: str, key: str, fields: dict[str, Any]) -> dict:
        """Replaces top-level fields of one record, e.g. to change a field's type (schema drift)."""
        with self.lock:
            rec = self.find(resource, key)
            if rec is None:
                raise KeyError(f"no {resource} record {key}")
            self._overrides.setdefault((resource, key), {}).update(fields)
            if resource == "incidents":
                rec.updated = now_ms()
            self._changed(resource, key)
            return self.render(resource, rec)

    def delete_record(self, resource: str, key: str) -> None:
        with self.lock:
            recs = self.lists[resource]
            for i, rec in enumerate(recs):
                if self.key(resource, rec) == key:
                    del recs[i]
                    self._changed(resource, key)
                    return
            raise KeyError(f"no {resource} record {key}")


def hash_base(seed: int, n: int) -> int:
    """128 deterministic bits for records added at runtime."""
    return int.from_bytes(hashlib.sha256(f"added:{seed}:{n}".encode()).digest()[:16], "big")
