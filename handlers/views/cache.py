"""A short-lived cache of the committee's aggregates for the web view.

An officer's morning view repeats the same few GROUP BY queries (a year of a 500-cell
bloc: ~100 ms each, five per page); figures a minute old are fine for a read-only view,
so each result is kept ``TTL`` seconds per database, query, organisation and period. The
chat and the workbook never read through it. ``clear()`` empties it (tests, benches)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlmodel import Session

from models.org import Organisation
from models.reports import Period

T = TypeVar("T")
TTL = 60.0  # seconds
MAX_ENTRIES = 2_000

_lock = threading.Lock()
_store: dict[tuple[Any, ...], tuple[float, Any]] = {}


def clear() -> None:
    with _lock:
        _store.clear()


def cached(fn: Callable[[Session, Organisation, Period], T], s: Session, root: Organisation,
           period: Period) -> T:
    """``fn(s, root, period)``, or its result of less than ``TTL`` seconds ago."""
    key = (str(s.get_bind().url), fn.__module__, fn.__qualname__, root.id, period.months)
    now = time.monotonic()
    with _lock:
        hit = _store.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]  # type: ignore[no-any-return]
    value = fn(s, root, period)
    with _lock:
        if len(_store) >= MAX_ENTRIES:
            for k in [k for k, (until, _v) in _store.items() if until <= now] or list(_store):
                del _store[k]
        _store[key] = (now + TTL, value)
    return value
