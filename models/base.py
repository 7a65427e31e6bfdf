"""Shared column helpers. Every datetime in the store is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlalchemy.ext.mutable import MutableDict
from sqlmodel import Field


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_field(**kw: Any) -> Any:
    """A JSON dict column whose in-place changes are tracked."""
    return Field(default_factory=dict, sa_column=Column(MutableDict.as_mutable(JSON), **kw))
