"""Ids and times shared by the generators: UUID strings, ISO-8601 formatting, the anchor.

Generated data never reads the wall clock: times sit in the ~18 months before ANCHOR_MS.
Times are integer milliseconds since the epoch internally.
"""

from __future__ import annotations

import calendar
import time

ANCHOR_MS = calendar.timegm((2026, 11, 1, 0, 0, 0)) * 1000  # 2026-11-01T00:00:00.000Z
SPAN_MS = 548 * 86_400_000  # incidents spread over ~18 months before the anchor
MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR

_MASK128 = (1 << 128) - 1
_GOLDEN = 0x9E3779B97F4A7C15F39CC0605CEDC835


def uuid_str(n: int) -> str:
    """A version-4 UUID string from 128 random bits (faster than uuid.UUID for 100k+)."""
    n = (n & _MASK128 & ~(0xF << 76) & ~(0x3 << 62)) | (0x4 << 76) | (0x2 << 62)
    h = "%032x" % n
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def child_id(base: int, k: int) -> str:
    """Stable id of a record's k-th child (milestone, assignment...) without an rng draw."""
    return uuid_str(base ^ ((k + 1) * _GOLDEN))


def iso(ms: int | None) -> str | None:
    """ISO-8601 UTC with milliseconds, e.g. 2021-02-17T20:02:10.679Z."""
    if ms is None:
        return None
    t = time.gmtime(ms // 1000)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
        t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ms % 1000)


def iso_duration(ms: int) -> str:
    """ISO-8601 duration (the milestone `duration` format), e.g. P1DT2H3M4S."""
    s = max(0, ms // 1000)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    out = "P" + (f"{d}D" if d else "")
    t = (f"{h}H" if h else "") + (f"{m}M" if m else "") + (f"{s}S" if s else "")
    if not t:
        return out if d else "PT0S"
    return out + "T" + t
