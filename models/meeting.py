"""Meetings, their agenda, and the tasks their resolutions assign."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import Index, UniqueConstraint, bindparam, delete
from sqlmodel import Field, Session, SQLModel, select

from models.base import utcnow
from models.files import StoredFile


class MeetingKind(StrEnum):
    REGULAR = "regular"  # thường kỳ
    THEMATIC = "thematic"  # chuyên đề
    EXTRAORDINARY = "extraordinary"  # đột xuất
    COMMITTEE = "committee"  # họp chi ủy
    FORUM = "forum"  # diễn đàn (1–2 a year in some blocs)


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
    thematic_part: bool = False  # a regular meeting combined with a thematic part
    revision: int = 0  # bumped by each reschedule: reminders are re-planned under it
    agenda_rev: int = 0  # bumped by each confirmed agenda edit: re-posted as a correction
    agenda_posted_rev: int | None = None
    docs_posted_at: datetime | None = None  # first time an agenda with documents went out
    manual_time: bool = False  # set by the secretary: a rule change does not move it
    score_reopened_at: datetime | None = None  # a base-organisation officer reopened scoring
    # The roll call's counts (present or late; due: those and the absent; unexcused),
    # kept by database triggers on ``attendance`` (migration 0016), never written here:
    # the web view's year figures read them instead of every roll-call row.
    attended_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    due_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    unexcused_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The current "cell" and "confirmed" score's total and rating, kept by database
    # triggers on ``score`` (migration 0018), never written here: the subtree's figures
    # read them instead of joining every meeting to the score table.
    cell_total: float | None = None
    cell_rating: str | None = Field(default=None, max_length=16)
    confirmed_total: float | None = None
    confirmed_rating: str | None = Field(default=None, max_length=16)
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
    document_file_id: int | None = Field(default=None, foreign_key="stored_file.id")
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


@cache
def _upcoming_stmt() -> Any:
    return (select(Meeting)
            .where(Meeting.cell_id == bindparam("cell_id"),
                   Meeting.status.in_([MeetingStatus.PLANNED.value,
                                       MeetingStatus.IN_PROGRESS.value]),
                   Meeting.scheduled_at >= bindparam("since"))
            .order_by(Meeting.scheduled_at).limit(bindparam("limit")))


def upcoming(session: Session, *, cell_id: int, now: datetime, limit: int = 5) -> list[Meeting]:
    """Planned meetings not yet over (a meeting stays 'upcoming' for 12 h after its start)."""
    return list(session.scalars(_upcoming_stmt(), {
        "cell_id": cell_id, "since": now - timedelta(hours=12), "limit": limit}))


def agenda_of(session: Session, *, meeting_id: int) -> list[AgendaItem]:
    return list(session.exec(select(AgendaItem).where(AgendaItem.meeting_id == meeting_id)
                             .order_by(AgendaItem.position)))


def agenda_files(session: Session, *, meeting_id: int) -> list[StoredFile]:
    """The files attached to the meeting's agenda items, in agenda order."""
    return list(session.exec(
        select(StoredFile).join(AgendaItem, AgendaItem.document_file_id == StoredFile.id)
        .where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.position)))


def previous_meeting(session: Session, *, meeting: Meeting) -> Meeting | None:
    """The cell's last meeting held before this one (whose tasks this one reviews)."""
    return session.exec(
        select(Meeting).where(Meeting.cell_id == meeting.cell_id,
                              Meeting.id != meeting.id,
                              Meeting.status == MeetingStatus.HELD.value,
                              Meeting.scheduled_at < meeting.scheduled_at)
        .order_by(Meeting.scheduled_at.desc())).first()


def tasks_of(session: Session, *, meeting_id: int) -> list[Task]:
    return list(session.exec(select(Task).where(Task.meeting_id == meeting_id)
                             .order_by(Task.id)))


def drop_unused_files(session: Session, file_ids: Iterable[int | None]) -> int:
    """Delete those stored files no agenda item refers to any more; how many went."""
    ids = {i for i in file_ids if i}
    if not ids:
        return 0
    used = set(session.exec(select(AgendaItem.document_file_id)
                            .where(AgendaItem.document_file_id.in_(ids))))
    gone = ids - used
    if gone:
        session.flush()
        session.execute(delete(StoredFile).where(StoredFile.id.in_(gone)))
    return len(gone)


def drop_meeting_files(session: Session, meeting: Meeting) -> int:
    """A cancelled meeting keeps its agenda as history but not the documents' bytes."""
    ids = []
    for item in agenda_of(session, meeting_id=meeting.id or 0):
        if item.document_file_id is not None:
            ids.append(item.document_file_id)
            item.document_file_id = None
            session.add(item)
    session.flush()
    return drop_unused_files(session, ids)
