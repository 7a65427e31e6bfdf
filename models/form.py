"""Persisted conversational form state: one active form per (platform, chat, user)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint, event
from sqlalchemy.orm import object_session
from sqlmodel import Field, SQLModel

from models.base import json_field, utcnow


class FormState(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "chat_id", "user_id", name="uq_form_owner"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    step: str = Field(max_length=64)
    data: dict[str, Any] = json_field(nullable=False)
    started_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


FORMS_TOUCHED = "chibot_forms_touched"


@event.listens_for(FormState, "after_insert")
@event.listens_for(FormState, "after_delete")
def _touched(_mapper: Any, _conn: Any, target: FormState) -> None:
    """A form row written or deleted in this session: the preloaded one may be stale."""
    session = object_session(target)
    if session is not None:
        session.info[FORMS_TOUCHED] = True
