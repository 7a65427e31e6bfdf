"""Meetings, their agenda, and the tasks their resolutions assign."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import utcnow


class MeetingKind(StrEnum):
    REGULAR = "regular"  # thường kỳ
    THEMATIC = "thematic"  # chuyên đề
    EXTRAORDINARY = "extraordinary"  # đột xuất
    COMMITTEE = "committee"  # họp chi ủy


class MeetingStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    HELD = "held"
    NOT_HELD = "not_held"  # no quorum, or did not take place
    CANCELLED = "cancelled"


class Meeting(SQLModel, table=True):
    __table_args__ = (
        Index("ix_meeting_cell_period", "cell_id", "period"),
        Index("ix_meeting_period_status", "period", "status"),
        # One materialised regular meeting per cell and month; others are free.
        UniqueConstraint("cell_id", "period", "kind", "seq", name="uq_meeting_slot"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cell_id: int = Field(foreign_key="organisation.id")
    kind: str = Field(default=MeetingKind.REGULAR.value, max_length=16)
    seq: int = 0  # 0 for the month's regular meeting; extra meetings count up
    period: str = Field(max_length=7)  # "2026-11", in the cell's timezone
    scheduled_at: datetime
    timezone: str = Field(default="Asia/Ho_Chi_Minh", max_length=64)
    duration_min: int = 90
    place: str | None = Field(default=None, max_length=300)
    online_link: str | None = Field(default=None, max_length=500)
    topic: str | None = Field(default=None, max_length=300)
    status: str = Field(default=MeetingStatus.PLANNED.value, max_length=16)
    cancel_reason: str | None = Field(default=None, max_length=300)
    started_at: datetime | None = None
    ended_at: datetime | None = None
    speakers_count: int | None = None
    conclusion: str | None = None
    sotay_link: str | None = Field(default=None, max_length=500)  # Sổ tay đảng viên entry
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AgendaItem(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    position: int
    title: str = Field(max_length=300)
    presenter: str | None = Field(default=None, max_length=120)
    document_name: str | None = Field(default=None, max_length=200)
    document_url: str | None = Field(default=None, max_length=500)
    added_at: datetime = Field(default_factory=utcnow)


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


class Task(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    assignee_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    description: str = Field(max_length=500)
    due_date: date | None = None
    status: str = Field(default=TaskStatus.OPEN.value, max_length=16)
    done_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
