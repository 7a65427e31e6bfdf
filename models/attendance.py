"""RSVPs before a meeting and the roll call after it, one row per member and meeting."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class Rsvp(StrEnum):
    YES = "yes"
    NO = "no"


class Presence(StrEnum):
    PRESENT = "present"
    LATE = "late"
    EXCUSED = "excused"  # vắng có lý do
    UNEXCUSED = "unexcused"  # vắng không lý do
    EXEMPTED = "exempted"  # miễn sinh hoạt / tạm vắng: not due to attend


ATTENDED = (Presence.PRESENT.value, Presence.LATE.value)
ABSENT = (Presence.EXCUSED.value, Presence.UNEXCUSED.value)


class Attendance(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("meeting_id", "member_id", name="uq_attendance"),
        # Covering indexes for the year queries: counts per meeting and per member read
        # the index alone instead of every roll-call row (migrations 0009, 0012: with the
        # member in it, PostgreSQL reads the year's member sheet from the index instead
        # of scanning every year's roll calls).
        Index("ix_attendance_meeting_status_member", "meeting_id", "status", "member_id"),
        Index("ix_attendance_member_meeting_status", "member_id", "meeting_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    rsvp: str | None = Field(default=None, max_length=8)
    rsvp_reason: str | None = Field(default=None, max_length=300)
    rsvp_at: datetime | None = None
    status: str | None = Field(default=None, max_length=16)
    reason: str | None = Field(default=None, max_length=300)
    recorded_at: datetime | None = None


class MemberYearAttendance(SQLModel, table=True):
    """A member's roll calls of one year's held and not-held meetings, counted: kept by
    database triggers on ``attendance`` and ``meeting`` (migration 0017), never written
    here. The year's classification read 93,000 roll-call rows of a bloc to add them up
    per member (60-80 ms of its cold lists); it reads 8,000 rows of this."""
    __tablename__ = "member_year_attendance"

    year: int = Field(primary_key=True)  # first: the year's rows are read together
    member_id: int = Field(primary_key=True)  # no foreign key: counts, not a record
    due: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    attended: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    unexcused: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    excused: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
