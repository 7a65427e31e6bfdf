"""Last line of defence before a row reaches the database: no NUL byte in a text column
(PostgreSQL refuses it, SQLite keeps it), no other character a .docx/.xlsx cannot hold
(``models.text.clean_text``: one would block every document made from the row), and no
text longer than its column (PostgreSQL raises DataError, SQLite stores it silently), so
both databases behave alike.

Input is refused with a reason where it enters (forms, the importer, the adapters' Incoming);
this guard only catches what slipped past them, and logs it so the gap gets fixed.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import String, event, inspect
from sqlalchemy.orm import Session

from models.text import clean_text

log = logging.getLogger(__name__)


def _clean(obj: Any) -> None:
    state = inspect(obj, raiseerr=False)
    if state is None:
        return
    for col in state.mapper.columns:
        ctype = getattr(col.type, "impl_instance", col.type)  # SQLModel's AutoString
        if not isinstance(ctype, String) and not isinstance(col.type, String):
            continue
        key = state.mapper.get_property_by_column(col).key
        value = state.dict.get(key)
        if not isinstance(value, str):
            continue
        new = value
        name = f"{state.mapper.class_.__name__}.{key}"
        if clean_text(new) != new:
            log.warning("%s: characters XML cannot hold removed", name)
            new = clean_text(new)
        limit = getattr(ctype, "length", None) or getattr(col.type, "length", None)
        if limit and len(new) > limit:
            log.warning("%s: %d characters cut to %d", name, len(new), limit)
            new = new[:limit]
        if new is not value:
            setattr(obj, key, new)


def _before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(session.new) + list(session.dirty):
        _clean(obj)


def install() -> None:
    """Listen on every Session (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
