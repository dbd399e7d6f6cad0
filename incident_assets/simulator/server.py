"""The HTTP side: routing, auth, rate limit, faults, pagination and the request log.

`Api.handle` turns (path, headers) into a Response without touching sockets, and
`Handler` is the thin http.server adapter (HTTP/1.1 keep-alive, so clients reuse connections).
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO
from urllib.parse import parse_qsl, urlsplit

from incident_assets.simulator.data import BadFilter, Dataset, dumps
from incident_assets.simulator.faults import FaultState, RateLimiter

# URL path under /v1 -> resource name
LIST_PATHS = {"environments": "environments", "services": "services",
              "functionalities": "functionalities", "teams": "teams", "webhooks": "webhooks",
              "incidents": "incidents", "severities": "severities", "priorities": "priorities",
              "users": "users", "incident_roles": "incident_roles",
              "changes/events": "change_events", "post_mortems/reports": "retrospectives",
              "ticketing/tickets": "tickets", "alerts": "alerts",
              "scheduled_maintenances": "scheduled_maintenances"}
PATH_OF = {resource: "/v1/" + path for path, resource in LIST_PATHS.items()}
DEFAULT_PER_PAGE, MAX_PER_PAGE = 20, 200
# the odd values the issue saw from a mock server generated from the OpenAPI file
NEGATIVE_NEXT, NEGATIVE_COUNT = -374332163, -307061230
_SECRET_KEYS = {"token", "api_token", "api_key", "access_token", "authorization"}
_REDACTED = "[redacted]"


@dataclass(frozen=True)
class RequestLogEntry:
    method: str
    path: str
    query: dict
    status: int
    time: float  # time.time() when the request arrived
    authorized: bool


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


def error(status: int, message: str, **headers: str) -> Response:
    return Response(status, dumps({"error": message}).encode(), headers)


class Api:
    def __init__(self, data: Dataset, token: str, limiter: RateLimiter, faults: FaultState,
                 log_file: IO[str] | None = None) -> None:
        self.data, self.token, self.limiter, self.faults = data, token, limiter, faults
        self.log: list[RequestLogEntry] = []
        self.log_lock = threading.Lock()
        self.log_file = log_file
        self._selections: dict[tuple, list] = {}  # filtered lists, valid for one data version

    # ------------------------------------------------------------ entry point
    def handle(self, method: str, target: str, authorization: str | None) -> Response:
        arrived = time.time()
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        authorized = self._authorized(authorization)
        if method != "GET":
            response = error(405, "method not allowed")
        elif path == "/v1/noauth/ping":
            response = Response(200, dumps({"response": "pong"}).encode())
        elif not authorized:
            response = error(401, "unauthorized")
        else:
            retry = self.limiter.admit()
            if retry is not None:
                response = error(429, "rate limit exceeded", **{
                    "RateLimit-Limit": str(self.limiter.limit), "Retry-After": str(retry),
                    "RateLimit-Policy": f"{self.limiter.limit};w={self.limiter.window:g}"})
            else:
                response = self._route(path, query)
        self._record(method, path, query, response.status, arrived, authorized)
        return response

    def _authorized(self, header: str | None) -> bool:
        if not header:
            return False
        value = header.strip()
        if value[:7].lower() == "bearer ":
            value = value[7:].strip()
        return value == self.token

    def _record(self, method: str, path: str, query: dict, status: int, arrived: float,
                authorized: bool) -> None:
        # never keep the token: not in a query value, not in the path
        safe_query = {k: (_REDACTED if k.lower() in _SECRET_KEYS or self.token in v or self.token in k else v)
                      for k, v in query.items()}
        entry = RequestLogEntry(method, path.replace(self.token, _REDACTED), safe_query, status,
                                arrived, authorized)
        with self.log_lock:
            self.log.append(entry)
            if self.log_file is not None:
                self.log_file.write(json.dumps(asdict(entry)) + "\n")
                self.log_file.flush()

    # ------------------------------------------------------------ routing
    def _route(self, path: str, query: dict) -> Response:
        if path == "/v1/ping":
            user = self.data.cat.users[0]
            return Response(200, dumps({"response": "pong", "actor": {
                "id": user["id"], "name": user["name"], "email": user["email"],
                "type": "firehydrant_user"}, "organization": self.data.cat.org}).encode())
        if not path.startswith("/v1/"):
            return error(404, "not found")
        rest = path[4:]
        if rest in LIST_PATHS:
            return self._list(LIST_PATHS[rest], path, query)
        head, _, key = rest.rpartition("/")
        if head in LIST_PATHS and key:
            resource = LIST_PATHS[head]
            with self.data.lock:
                rec = self.data.find(resource, key)
                if rec is None:
                    return error(404, "not found")
                return Response(200, self.data.render_json(resource, rec).encode())
        return error(404, "not found")

    def _list(self, resource: str, path: str, query: dict) -> Response:
        try:
            page = max(1, int(query.get("page") or 1))
            per_page = min(MAX_PER_PAGE, max(1, int(query.get("per_page") or DEFAULT_PER_PAGE)))
        except ValueError:
            return error(400, "page and per_page must be integers")
        fault, delay = self.faults.before()
        if fault == "429":
            return error(429, "rate limit exceeded", **{
                "RateLimit-Limit": str(self.limiter.limit), "Retry-After": "1"})
        if fault == "5xx":
            return error(self.faults.config.status_5xx, "service unavailable")
        if delay:
            time.sleep(delay)
        path_fault = self.faults.path_fault(path)
        if path_fault == "forbidden_path":
            return error(403, "forbidden")
        if path_fault == "ignore_page_path":
            page = 1
        if path_fault == "non_json_path":
            return Response(200, b"<html><body><h1>Maintenance</h1></body></html>",
                            content_type="text/html; charset=utf-8")
        try:
            body = self._page(resource, query, page, per_page, path_fault)
        except BadFilter as exc:
            return error(400, str(exc))
        if self.faults.truncate_now():
            body = body[: len(body) // 2]
        return Response(200, body)

    def _page(self, resource: str, query: dict, page: int, per_page: int,
              path_fault: str | None) -> bytes:
        filters = tuple(sorted((k, v) for k, v in query.items() if k not in ("page", "per_page")))
        with self.data.lock:
            ck = (resource, filters, self.data.version)
            selected = self._selections.get(ck)
            if selected is None:
                selected = self.data.select(resource, query)
                if len(self._selections) > 64:
                    self._selections.clear()
                self._selections[ck] = selected
            count = len(selected)
            chunk = selected[(page - 1) * per_page: page * per_page]
            rows = [self.data.render_json(resource, r) for r in chunk]
        # With no records FireHydrant (pagy) still reports one page: pages = last = 1, next null.
        pages = max(1, math.ceil(count / per_page))
        nxt = page + 1 if page < pages else None
        if path_fault == "stuck_cursor_path":
            nxt = max(page, 2)
        elif path_fault == "backwards_cursor_path" and page > 1:
            nxt = 1
        elif path_fault == "negative_next_path":
            nxt = NEGATIVE_NEXT
        if path_fault == "single_object_path":
            return (rows[0] if rows else "{}").encode()
        if path_fault == "negative_count_path":
            count = NEGATIVE_COUNT
        pagination = dumps({"count": count, "page": page, "items": len(rows), "pages": pages,
                            "last": pages, "prev": min(page - 1, pages) if page > 1 else None,
                            "next": nxt})
        if path_fault == "no_data_path":
            return ('{"pagination":' + pagination + "}").encode()
        if path_fault == "data_not_list_path":
            data = rows[0] if rows else "{}"
        else:
            data = "[" + ",".join(rows) + "]"
        return ('{"data":' + data + ',"pagination":' + pagination + "}").encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every response carries Content-Length
    server_version = "incident-api-simulator"
    sys_version = ""

    def _serve(self) -> None:
        api: Api = self.server.api  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # drain a body so the connection stays usable
        response = api.handle(self.command, self.path, self.headers.get("Authorization"))
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the request log replaces it
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, api: Api) -> None:
        self.api = api
        super().__init__((host, port), Handler)
