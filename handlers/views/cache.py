"""A short-lived cache of the committee's aggregates for the web view.

An officer's morning view repeats the same few GROUP BY queries (a year of a 500-cell
bloc: ~100 ms each, five per page); figures a minute old are fine for a read-only view,
so each result is kept ``TTL`` seconds per database, query, organisation and period. The
chat and the workbook never read through it. ``clear()`` empties it (tests, benches)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

from sqlmodel import Session

from models.collation import vi_key
from models.org import Organisation

T = TypeVar("T")
TTL = 60.0  # seconds
MAX_ENTRIES = 2_000

_lock = threading.Lock()
_store: dict[tuple[Any, ...], tuple[float, Any]] = {}


def clear() -> None:
    with _lock:
        _store.clear()


def cached(fn: Callable[..., T], s: Session, root: Organisation, *args: Any,
           extra: tuple[Any, ...] = ()) -> T:
    """``fn(s, root, *args, *extra)``, or its result of less than ``TTL`` seconds ago
    (``args`` are hashable and make the key: a Period, a tuple of months; ``extra`` does
    not, e.g. the settings)."""
    key = (str(s.get_bind().url), fn.__module__, fn.__qualname__, root.id, args)
    now = time.monotonic()
    with _lock:
        hit = _store.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]  # type: ignore[no-any-return]
    value = fn(s, root, *args, *extra)
    with _lock:
        if len(_store) >= MAX_ENTRIES:
            for k in [k for k, (until, _v) in _store.items() if until <= now] or list(_store):
                del _store[k]
        _store[key] = (now + TTL, value)
    return value


# The Vietnamese sort key costs ~30 µs a name (models.collation); the same organisation
# and member names come back on every view.
name_key = lru_cache(maxsize=50_000)(vi_key)


def by_name(rows: list[Any], name: str = "name") -> list[Any]:
    """``models.collation.sort_within(rows, name)`` with the key remembered."""
    return sorted(rows, key=lambda r: name_key(r[name]))
