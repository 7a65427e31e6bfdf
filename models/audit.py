"""Append-only audit trail of changes made through the bot or the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, Session, SQLModel

from models.base import json_field, utcnow


class AuditEntry(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    action: str = Field(max_length=64)
    entity: str = Field(max_length=32)
    entity_id: int | None = None
    detail: dict[str, Any] = json_field(nullable=False)


def audit(
    session: Session,
    action: str,
    entity: str,
    entity_id: int | None,
    actor_id: int | None = None,
    **detail: Any,
) -> None:
    session.add(
        AuditEntry(action=action, entity=entity, entity_id=entity_id, actor_id=actor_id,
                   detail=detail)
    )
