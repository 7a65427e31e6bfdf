"""Requests to join a cell's group chat, decided by the secretary (Telegram)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import utcnow


class JoinStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class JoinRequest(SQLModel, table=True):
    """One row per (group, user): a new request after a decision reopens the same row."""

    __tablename__ = "join_request"
    __table_args__ = (
        UniqueConstraint("platform", "chat_id", "platform_user_id", name="uq_join_request"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    platform_user_id: str = Field(max_length=64)
    display_name: str = Field(max_length=200)
    status: str = Field(default=JoinStatus.PENDING.value, max_length=16)
    requested_at: datetime = Field(default_factory=utcnow)
    # Bumped by each new request, so its notices get fresh idempotency keys.
    round: int = 1
    member_id: int | None = Field(default=None, foreign_key="member.id")
    decided_by: int | None = Field(default=None, foreign_key="member.id")
    decided_at: datetime | None = None
