"""The bundled FireHydrant-compatible API simulator (behaviour described in the README and `server.py`).

    with Simulator(incidents=200, seed=7) as sim:
        requests.get(sim.base_url + "/incidents", headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"})

Same seed and parameters -> byte-identical responses. Mutations (resolve_incident, ...) bump
the changed record's internal last-change time to now, which `updated_after` filters on.
"""

from __future__ import annotations

import threading
from typing import IO, Any

from incident_assets.simulator.data import RESOURCES, Dataset
from incident_assets.simulator.faults import FaultConfig, FaultState, RateLimiter
from incident_assets.simulator.server import PATH_OF, Api, RequestLogEntry, Server

__all__ = ["DEFAULT_TOKEN", "FaultConfig", "RESOURCES", "RequestLogEntry", "Simulator"]

DEFAULT_TOKEN = "fhb-simulator-token"


class Simulator:
    def __init__(self, incidents: int = 200, seed: int = 7, port: int = 0,
                 token: str = DEFAULT_TOKEN, rate_limit: bool = False,
                 faults: FaultConfig | None = None, *, rate_limit_requests: int = 50,
                 rate_limit_window: float = 10.0, host: str = "127.0.0.1",
                 request_log_file: IO[str] | None = None, messy: bool = False,
                 archived_only: bool = False) -> None:
        """`messy`: records and list sizes like a real account's (free-form objects with keys
        of their own, numbers sent as strings, absent vs null, ...; see simulator/messy.py).
        `archived_only`: `GET /v1/incidents?archived=true` answers archived incidents only,
        not archived plus active ones (the default): the other reading of the API's documentation."""
        if not token:
            raise ValueError("token must not be empty")
        self.host, self.port = host, port
        self.data = Dataset(incidents, seed, messy=messy, archived_only=archived_only)
        limiter = RateLimiter(rate_limit_requests, rate_limit_window)
        limiter.set_enabled(rate_limit)
        self.api = Api(self.data, token, limiter, FaultState(faults), request_log_file)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> "Simulator":
        if self._server is not None:
            return self
        self._server = Server(self.host, self.port, self.api)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"simulator:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # ------------------------------------------------------------ data
    def records(self, resource: str) -> list[dict]:
        """Exactly what the list endpoint serves (incidents: archived ones included)."""
        self._check(resource)
        return self.data.records(resource)

    def count(self, resource: str) -> int:
        self._check(resource)
        with self.data.lock:
            return len(self.data.lists[resource])

    @staticmethod
    def path(resource: str) -> str:
        """The list path of a resource, e.g. "/v1/changes/events"."""
        return PATH_OF[resource]

    def resolve_incident(self, incident_id: str, at: str | None = None) -> dict:
        return self.data.resolve_incident(incident_id, at)

    def edit_milestone(self, incident_id: str, milestone_type: str, occurred_at: str) -> dict:
        return self.data.edit_milestone(incident_id, milestone_type, occurred_at)

    def add_incident(self) -> dict:
        return self.data.add_incident()

    def set_fields(self, resource: str, id_or_slug: str, **fields: Any) -> dict:
        """Replaces top-level fields of one record as served (incidents: counts as an edit)."""
        self._check(resource)
        return self.data.set_fields(resource, id_or_slug, fields)

    def delete_record(self, resource: str, id_or_slug: str) -> None:
        self._check(resource)
        self.data.delete_record(resource, id_or_slug)

    @staticmethod
    def _check(resource: str) -> None:
        if resource not in RESOURCES:
            raise KeyError(f"unknown resource {resource!r}; one of {RESOURCES}")

    # ------------------------------------------------------------ behaviour
    def set_faults(self, faults: FaultConfig | None) -> None:
        """Replaces the fault config and restarts its counters."""
        self.api.faults.set(faults)

    def set_rate_limit(self, enabled: bool) -> None:
        self.api.limiter.set_enabled(enabled)

    @property
    def request_log(self) -> list[RequestLogEntry]:
        with self.api.log_lock:
            return list(self.api.log)

    def clear_log(self) -> None:
        with self.api.log_lock:
            self.api.log.clear()
