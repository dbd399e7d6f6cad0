"""Fewer passes of Python's garbage collector while a load runs.

Reading a page makes thousands of dicts and lists. CPython starts a collection every 700 new
containers, and its older generations then walk every object the process holds, Dagster's and
dlt's included: during a load, about half of the time spent parsing pages. A load makes next
to no reference cycles (pages are freed by reference counting), so a pass every 50,000 new
containers frees the same memory, later. The thresholds are the process's, so they are set
around the run only: `with fewer_gc_passes(): pipeline.run(incident_api_source())`.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

# new containers between two collections of the youngest generation (CPython's default: 700)
LOAD_GC_THRESHOLD = 50_000


@contextmanager
def fewer_gc_passes(threshold: int = LOAD_GC_THRESHOLD) -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(max(threshold, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
