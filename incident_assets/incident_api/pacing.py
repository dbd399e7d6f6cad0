"""How fast the project talks to the incident API: one `RequestPacer` per run, shared by every
endpoint's thread, mounted under dlt's retrying session so that retries are paced too.

By default the pacer is adaptive: full speed (a server without a limit costs nothing) until the
server answers 429. That answer says the limit (`RateLimit-Limit` requests per window; the
window from `RateLimit-Policy`, else the API's documented 10 s) and when to come back
(`Retry-After`); from then on every thread holds to that pace for the rest of the run, so a
rate-limited server sees only the 429s of the requests in flight when the limit was reached.
A fixed pace (both numbers configured) starts paced; none at all (requests = 0) never waits.

The server counts a request when it arrives, which the client cannot see; it can only bound
it: after the send, before the answer. So a request holds its place in the window from its
send (while in flight) and is then dated by its answer, which is never earlier than the
server's count. Dating it by its send instead, as this pacer first did, made any delay between
the send and the server's count (a busy interpreter, a slow network) a 429 one window later,
and needed a 5 % margin on every window to hide it.
"""

from __future__ import annotations

import collections
import logging
import re
import threading
import time
from typing import Any, Optional

import requests
from dlt.sources.helpers.requests import Client

log = logging.getLogger(__name__)

API_WINDOW_SECONDS = 10.0  # the API's documented window, when a 429 gives only the limit
# RateLimit-Policy (IETF draft): "50;w=10"
POLICY_WINDOW = re.compile(r"\bw=(\d+(?:\.\d+)?)")


class RequestPacer:
    """At most `requests` requests in any sliding window of `seconds` (thread-safe), once a
    pace is known: in flight, or answered within the last `seconds`. `adaptive` learns the
    pace from the server's first 429 instead."""

    def __init__(self, requests: Optional[int] = None, seconds: Optional[float] = None,
                 adaptive: bool = False) -> None:
        if requests is not None and (requests < 1 or seconds is None or seconds <= 0):
            raise ValueError("a fixed pace needs requests >= 1 and seconds > 0")
        self.adaptive = adaptive
        self.requests: Optional[int] = requests
        self.seconds: Optional[float] = seconds
        self._answered: collections.deque[float] = collections.deque(maxlen=10_000)  # answer times
        self._in_flight = 0
        self._resume_at = 0.0  # no send before this (a Retry-After seen by any thread)
        self._changed = threading.Condition()

    @property
    def enabled(self) -> bool:
        return self.adaptive or self.requests is not None

    @classmethod
    def from_config(cls, requests: Optional[int], seconds: Optional[float]) -> "RequestPacer":
        """The source's settings: unset = adaptive, 0 requests = no pacing, else a fixed pace."""
        if requests is None:
            if seconds is not None:
                raise ValueError("rate_limit_seconds is set without rate_limit_requests: set both, "
                                 "or neither for the adaptive default")
            return cls(adaptive=True)
        if requests == 0:
            return cls()
        return cls(requests, API_WINDOW_SECONDS if seconds is None else seconds)

    def wait(self) -> float:
        """Blocks until one more request fits the pace and counts it in flight; returns the
        time of its send. Every `wait` must be followed by one `answered`."""
        with self._changed:
            while True:
                now = time.monotonic()
                delay = self._delay(now)
                if delay <= 0:
                    self._in_flight += 1
                    return now
                # woken early by an answer (a place may free up), else when the oldest ages out
                self._changed.wait(delay)

    def _delay(self, now: float) -> float:
        if now < self._resume_at:
            return self._resume_at - now
        if self.requests is None or self.seconds is None:
            return 0.0
        while self._answered and now - self._answered[0] >= self.seconds:
            self._answered.popleft()
        if self._in_flight + len(self._answered) < self.requests:
            return 0.0
        if not self._answered:
            return self.seconds  # every place is in flight: the next answer wakes us
        return self.seconds - (now - self._answered[0])

    def answered(self, response: Optional[requests.Response]) -> None:
        """A request sent after `wait` got its answer (None: none came, a transport error).
        A 429 takes no place in the window, and teaches the pace (adaptive, once) and when any
        thread may send again."""
        with self._changed:
            self._in_flight -= 1
            if response is None or response.status_code != 429 or not self.enabled:
                # no answer: the server may have counted it, so it keeps its place
                self._answered.append(time.monotonic())
            else:
                retry_after = retry_after_seconds(response)
                if retry_after:
                    self._resume_at = max(self._resume_at, time.monotonic() + retry_after)
                if self.adaptive and self.requests is None:
                    self._adopt(response)
            self._changed.notify_all()

    def _adopt(self, response: requests.Response) -> None:
        limit = _int_header(response, "RateLimit-Limit") or _int_header(response, "X-RateLimit-Limit")
        if not limit:
            return  # no limit stated: Retry-After alone governs this retry
        policy = POLICY_WINDOW.search(response.headers.get("RateLimit-Policy", ""))
        window = float(policy.group(1)) if policy else API_WINDOW_SECONDS
        self.requests, self.seconds = limit, window
        log.info(
            "incident API answered 429 (RateLimit-Limit %d): pacing every endpoint at %d requests "
            "per %g s for the rest of this run", limit, limit, window,
        )


def _int_header(response: requests.Response, name: str) -> Optional[int]:
    value = response.headers.get(name, "").split(",")[0].split(";")[0].strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def retry_after_seconds(response: requests.Response) -> Optional[float]:
    """`Retry-After` in seconds (the API sends whole seconds; an HTTP date is left to dlt)."""
    value = response.headers.get("Retry-After", "").strip()
    return float(value) if value.isdigit() else None


class PacedAdapter(requests.adapters.HTTPAdapter):
    """Every send waits for the pacer, and every answer teaches it."""

    def __init__(self, pacer: RequestPacer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pacer = pacer

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.pacer.wait()
        response = None
        try:
            response = super().send(request, **kwargs)
        finally:
            self.pacer.answered(response)
        return response


def log_retry(retry_state: Any) -> None:
    """tenacity `before_sleep`: one line per retry, with what failed and the wait."""
    outcome = retry_state.outcome
    if outcome.failed:
        error = outcome.exception()
        what = type(error).__name__
        request = getattr(error, "request", None)
        url = getattr(request, "url", None) or "?"
    else:
        response = outcome.result()
        what = f"HTTP {response.status_code}"
        url = response.request.url if response.request is not None else "?"
    path = requests.utils.urlparse(url).path or url
    log.warning("incident API: %s for GET %s, retry %d in %.1f s", what, path,
                retry_state.attempt_number, retry_state.upcoming_sleep)


def make_session(*, max_retries: int, backoff_factor: float, timeout: float, pacer: RequestPacer,
                 retry_statuses: tuple[int, ...], retry_exceptions: tuple[type[BaseException], ...],
                 ) -> requests.Session:
    """dlt's retrying session (`Retry-After` honoured), the pacer under it, each retry logged."""
    client = Client(
        request_timeout=timeout,
        raise_for_status=False,  # the response check raises, with a clearer message
        status_codes=retry_statuses,
        exceptions=retry_exceptions,
        request_max_attempts=max_retries + 1,
        request_backoff_factor=backoff_factor,
        respect_retry_after_header=True,
    )
    session = client.session
    session.send.retry.before_sleep = log_retry  # type: ignore[attr-defined]
    adapter = PacedAdapter(pacer, pool_maxsize=16)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
