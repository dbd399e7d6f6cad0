"""Where an incremental endpoint's read starts this run, and where the next run's will.

Per sync mode (endpoints.py):
- `updated_after` (incidents): records carry no edit time; the server filters on it. The cursor
  is the start of the last successful extraction minus `overlap` (clock skew, in-flight edits).
- `updated_since` (retrospectives): the newest `updated_at` read.
- `starts_at` (change events): the newest `starts_at` read. An edit (its end filled in, a
  service added) does not move `starts_at`, so each run asks from `lookback` before the cursor;
  the records read again are merged on `id`.

The cursor lives in dlt's resource state, committed with the load and restored from the
destination, so a fresh machine continues where the last run ended; it never moves back. A
run with `full_refresh` reads everything and moves it; a bounded window (a backfill) neither
reads nor moves it, and leaves out records at or after its end. A record without the cursor
field is loaded, never dropped.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, MutableMapping, Optional

from incident_assets.incident_api.endpoints import Endpoint

# the start of the first incremental window: before any real timestamp (records dated
# before 1970 exist, e.g. imported history), so the client drops nothing. Year 1000, not 1:
# a timestamp written with strftime gives year 1 as "1", not "0001"
EPOCH = "1000-01-01T00:00:00.000Z"
# the record field each sync mode's cursor follows (`updated_after` has none)
CURSOR_FIELDS = {"updated_since": "updated_at", "starts_at": "starts_at"}


class RunScope:
    """What the run asks for: everything, what changed since the cursor, or a fixed window."""

    def __init__(self, full_refresh: bool, start: Optional[str], end: Optional[str],
                 lookback: timedelta = timedelta(0)) -> None:
        self.full_refresh, self.start, self.end = full_refresh, start, end
        self.lookback = lookback  # of the `starts_at` cursor: records edited after they start

    @property
    def bounded(self) -> bool:
        """A backfill between fixed instants: the stored cursors stay where they are."""
        return self.start is not None or self.end is not None


def iso_utc(moment: datetime) -> str:
    """The API's timestamp format: ISO-8601 UTC with milliseconds."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def instant(value: Any) -> Optional[datetime]:
    """A timestamp field as an aware datetime; None when absent or not a timestamp."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class IncrementalRead:
    """One run's incremental read of an endpoint: its query, its filter, its next cursor."""

    def __init__(self, endpoint: Endpoint, scope: RunScope, overlap: timedelta = timedelta(0)) -> None:
        if endpoint.sync == "full":
            raise ValueError(f"endpoint {endpoint.name}: sync `full` reads no cursor")
        self.param = endpoint.sync  # the query parameter, also the state key
        self.field = CURSOR_FIELDS.get(endpoint.sync)
        self.scope, self.overlap = scope, overlap
        self.end = instant(scope.end)
        self.newest: Optional[datetime] = None
        self.started = datetime.now(timezone.utc)

    def params(self, state: MutableMapping[str, Any]) -> dict[str, Any]:
        """The query of this run's read."""
        if self.param == "updated_after":
            if self.scope.bounded:
                return {k: v for k, v in (("updated_after", self.scope.start),
                                          ("updated_before", self.scope.end)) if v}
            stored = None if self.scope.full_refresh else state.get(self.param)
            return {"updated_after": stored} if stored else {}
        if self.scope.full_refresh and not self.scope.bounded:
            return {}
        start = instant(self.scope.start or self.stored(state) or EPOCH)
        if self.param == "starts_at" and not self.scope.start and start > instant(EPOCH) + self.scope.lookback:
            start -= self.scope.lookback
        return {self.param: iso_utc(start)}

    def stored(self, state: MutableMapping[str, Any]) -> Optional[str]:
        """The stored cursor; before this module, dlt's `Incremental` kept it as `last_value`."""
        legacy = state.get("incremental", {}).get(self.field or "", {}).get("last_value")
        return state.get(self.param) or (legacy if isinstance(legacy, str) else None)

    def kept(self, records: list[Any]) -> list[Any]:
        """The records to load (a bounded window leaves out those at or after its end); the
        newest cursor value among them is noted. Without a cursor field: `records` as they are."""
        if self.field is None:
            return records
        kept = []
        for record in records:
            moment = instant(record.get(self.field)) if isinstance(record, dict) else None
            if moment is not None:
                if self.end is not None and moment >= self.end:
                    continue
                if self.newest is None or moment > self.newest:
                    self.newest = moment
            kept.append(record)
        return kept

    def commit(self, state: MutableMapping[str, Any]) -> None:
        """The next run's cursor, after a complete read (a backfill moves nothing)."""
        if self.scope.bounded:
            return
        if self.param == "updated_after":
            state[self.param] = iso_utc(self.started - self.overlap)
            return
        stored = instant(self.stored(state))
        if self.newest is not None and (stored is None or self.newest > stored):
            state[self.param] = iso_utc(self.newest)
