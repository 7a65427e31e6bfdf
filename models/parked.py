"""Updates that failed for their own reason after several attempts (poison updates)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import utcnow


class ParkedUpdate(SQLModel, table=True):
    """Kept for a developer to look at: the update was apologised for and not retried."""

    __tablename__ = "parked_update"

    platform: str = Field(primary_key=True, max_length=16)
    update_id: str = Field(primary_key=True, max_length=64)
    chat_id: str = Field(max_length=64)
    sender_id: str = Field(max_length=64)
    text: str | None = Field(default=None, max_length=4096)
    error: str = Field(max_length=1000)
    attempts: int = 0
    parked_at: datetime = Field(default_factory=utcnow)
