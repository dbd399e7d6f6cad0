"""Fault injection and the rate limiter: deterministic, counter-based, changeable at runtime."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class FaultConfig:
    """Deterministic faults; all off by default. They apply to authorized *list* requests only
    (not /ping, not /{id}), so health checks stay clean. Each counter counts the list requests
    that reach that fault (those answered by an earlier fault don't count), in this order:

    - burst_429: the first N list requests answer 429 `{"error": "rate limit exceeded"}` with
      `Retry-After: 1` and `RateLimit-Limit`.
    - burst_5xx / every: without `every`, the next N list requests answer `status_5xx` (503) with
      a JSON error body. With `every=K`, requests K, K+1, ..., K+N-1, then 2K, ..., 2K+N-1, ...
      fail (N < K; N defaults to 1 when only `every` is set).
    - slow_seconds / slow_requests: sleep that many seconds before answering the first
      `slow_requests` list requests (None: every list request).
    - truncate: the first N successful list requests send only the first half of their JSON
      body, status 200, with Content-Length matching the truncated body.
    - non_json_path: that list path (e.g. "/v1/incidents" or "incidents") answers 200 HTML.
    - no_data_path: answers 200 JSON with `pagination` but no `data` key.
    - data_not_list_path: `data` is the page's first record (an object), not a list.
    - stuck_cursor_path: `pagination.next` never advances past 2 (page 2 says next=2 forever),
      so a client that follows it blindly loops.
    - ignore_page_path: the server ignores `page` and always serves page 1 (with `next: 2`
      while there is more), like a server that does not paginate the way it claims.
    - backwards_cursor_path: page 1 says next=2 as usual, every later page says next=1.
    - negative_next_path: every page says `next: -374332163`.
    - forbidden_path: answers 403 `{"error": "forbidden"}`, like a token or plan without that
      resource.
    - single_object_path: answers the list's first record as a bare object (no `data`, no
      `pagination`), as some of the OpenAPI file's examples do.
    - negative_count_path: `pagination.count` is -307061230 (the rest of the page is right).
    """

    burst_429: int = 0
    burst_5xx: int = 0
    every: int = 0
    status_5xx: int = 503
    slow_seconds: float = 0.0
    slow_requests: int | None = None
    truncate: int = 0
    non_json_path: str | None = None
    no_data_path: str | None = None
    data_not_list_path: str | None = None
    stuck_cursor_path: str | None = None
    ignore_page_path: str | None = None
    backwards_cursor_path: str | None = None
    negative_next_path: str | None = None
    forbidden_path: str | None = None
    single_object_path: str | None = None
    negative_count_path: str | None = None

    def __post_init__(self) -> None:
        if self.every and self.burst_5xx >= self.every:
            raise ValueError("burst_5xx must be smaller than every")


def normalize_path(path: str | None) -> str | None:
    """"incidents", "/incidents", "/v1/incidents/" all name the list path /v1/incidents."""
    if not path:
        return None
    path = path.strip().strip("/")
    if path.startswith("v1/"):
        path = path[3:]
    return "/v1/" + path


class FaultState:
    """The counters behind a FaultConfig; `set` resets them."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self.lock = threading.Lock()
        self.set(config)

    def set(self, config: FaultConfig | None) -> None:
        with self.lock:
            self.config = config or FaultConfig()
            if self.config.every and not self.config.burst_5xx:
                self.config = replace(self.config, burst_5xx=1)
            self.seen = {"429": 0, "5xx": 0, "slow": 0, "truncate": 0}

    def _next(self, name: str) -> int:
        self.seen[name] += 1
        return self.seen[name]

    def before(self) -> tuple[str | None, float]:
        """For one list request: ("429" | "5xx" | None, seconds to sleep first)."""
        with self.lock:
            c = self.config
            if c.burst_429 and self.seen["429"] < c.burst_429:
                self._next("429")
                return "429", 0.0
            if c.burst_5xx:
                n = self._next("5xx")
                fail = (n >= c.every and (n - c.every) % c.every < c.burst_5xx) if c.every \
                    else n <= c.burst_5xx
                if fail:
                    return "5xx", 0.0
            delay = 0.0
            if c.slow_seconds > 0 and (c.slow_requests is None or self._next("slow") <= c.slow_requests):
                delay = c.slow_seconds
            return None, delay

    def truncate_now(self) -> bool:
        with self.lock:
            return bool(self.config.truncate) and self._next("truncate") <= self.config.truncate

    def path_fault(self, path: str) -> str | None:
        c = self.config
        for name in PATH_FAULTS:
            if normalize_path(getattr(c, name)) == path:
                return name
        return None


# faults that name a list path (the first that matches a path applies)
PATH_FAULTS = ("forbidden_path", "non_json_path", "no_data_path", "data_not_list_path",
               "single_object_path", "stuck_cursor_path", "ignore_page_path",
               "backwards_cursor_path", "negative_next_path", "negative_count_path")


class RateLimiter:
    """`limit` requests per sliding `window` seconds, shared by all tokens (like the account
    limit). Only authorized requests count (401s and /noauth/ping don't: the limit is per
    account); rejected requests take no slot."""

    def __init__(self, limit: int = 50, window: float = 10.0) -> None:
        self.limit, self.window = limit, window
        self.enabled = False
        self.lock = threading.Lock()
        self.times: deque[float] = deque()

    def set_enabled(self, enabled: bool) -> None:
        with self.lock:
            self.enabled = enabled
            self.times.clear()

    def admit(self) -> int | None:
        """None when admitted, else the whole seconds (>= 1) until a slot frees."""
        with self.lock:
            if not self.enabled:
                return None
            now = time.monotonic()
            while self.times and self.times[0] <= now - self.window:
                self.times.popleft()
            if len(self.times) < self.limit:
                self.times.append(now)
                return None
            return max(1, math.ceil(self.times[0] + self.window - now))
