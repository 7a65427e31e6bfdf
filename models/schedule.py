"""Due steps of each meeting's cycle; the sweeper turns them into outbox rows."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import utcnow


class StepStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    MISSED = "missed"  # came due while the bot was down and is no longer useful
    CANCELLED = "cancelled"  # meeting moved/cancelled, or step made moot


class ScheduledStep(SQLModel, table=True):
    __tablename__ = "scheduled_message"
    __table_args__ = (
        UniqueConstraint("meeting_id", "step", "recipient", name="uq_step"),
        Index("ix_step_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    step: str = Field(max_length=32)
    recipient: str = Field(default="*", max_length=64)
    due_at: datetime  # UTC
    # After this moment the message is pointless (e.g. a reminder after the meeting).
    useful_until: datetime
    status: str = Field(default=StepStatus.PENDING.value, max_length=16)
    done_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
