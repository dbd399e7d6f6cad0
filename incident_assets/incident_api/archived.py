"""Which incident lists to read, so that no incident is lost under either reading of
`GET /v1/incidents?archived=true`.

The API documents the flag only as "return archived incidents". It may mean archived incidents
*plus* the active ones (what the bundled simulator does by default) or archived incidents
*only*; under the second reading a load of `archived=true` alone would lose every active
incident without a word. So each run first asks both lists for one record (two small
requests) and reads:
- the `archived=true` list alone when it holds an active incident (the "plus active" reading),
  or when there is no active incident to lose;
- else the `archived=true` list and then the default (active) list, merged on `id`. That is the
  "only archived" reading for certain when the archived list is the shorter one; when the two
  answers cannot tell, reading both is the safe choice (an incident served by both lists is
  taken once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

ARCHIVED_PARAM = "archived"

PLUS_ACTIVE = "archived plus active"
ONLY_ARCHIVED = "archived only"
NOTHING_ACTIVE = "no active incident"
UNKNOWN = "not told apart by the first records"


@dataclass(frozen=True)
class IncidentLists:
    """How `archived=true` reads here, the query of each list to read (in order), and how many
    incidents each list has for the run's query."""

    reading: str
    queries: tuple[dict[str, Any], ...]
    archived_count: int
    active_count: int

    @property
    def incident_count(self) -> int:
        """Incidents in the lists together: the sum when they are apart, else the larger list
        (when the answers could not tell, a lower bound)."""
        if self.reading == ONLY_ARCHIVED:
            return self.archived_count + self.active_count
        return max(self.archived_count, self.active_count)

    def describe(self) -> str:
        lists = " and ".join("`archived=true`" if ARCHIVED_PARAM in q else "the default list" for q in self.queries)
        return (f"incidents: `archived=true` lists {self.archived_count}, the default list "
                f"{self.active_count}; reading: {self.reading}, so reading {lists}")


def pagination_count(body: Mapping[str, Any]) -> int:
    """`pagination.count`, else the records on the page."""
    pagination = body.get("pagination")
    count = pagination.get("count") if isinstance(pagination, dict) else None
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
        return count
    data = body.get("data")
    return len(data) if isinstance(data, list) else 0


def incident_lists(get_first_page: Callable[[dict[str, Any]], Mapping[str, Any]],
                   params: Mapping[str, Any]) -> IncidentLists:
    """Asks the two lists for one record each (`get_first_page(query)` answers one JSON body):
    the lists to read with `params` (the run's query, `archived=true` in it)."""
    archived_query = {**params, "per_page": 1}
    active_query = {k: v for k, v in archived_query.items() if k != ARCHIVED_PARAM}
    archived_body, active_body = get_first_page(archived_query), get_first_page(active_query)
    archived_count, active_count = pagination_count(archived_body), pagination_count(active_body)
    first = (archived_body.get("data") or [None])[0]
    if active_count == 0:
        reading = NOTHING_ACTIVE
    elif isinstance(first, dict) and first.get("discarded_at") is None:
        reading = PLUS_ACTIVE  # an active incident in the archived list
    elif archived_count < active_count:
        reading = ONLY_ARCHIVED  # "plus active" would list at least as many
    else:
        reading = UNKNOWN
    archived_only = dict(params)
    with_active = {k: v for k, v in params.items() if k != ARCHIVED_PARAM}
    queries = (archived_only,) if reading in (PLUS_ACTIVE, NOTHING_ACTIVE) else (archived_only, with_active)
    return IncidentLists(reading, queries, archived_count, active_count)
