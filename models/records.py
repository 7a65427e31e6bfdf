"""The meeting's records: minutes (opinions, conclusions, vote, guests), the resolution's
number, the chi ủy's preparation meeting, Sổ tay confirmations and document revisions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, func, select

from models.base import json_field, utcnow


class RecordStatus(StrEnum):
    DRAFT = "draft"  # captured, sent to the secretary to check
    FINAL = "final"  # confirmed by the secretary or deputy


class DocType(StrEnum):
    MINUTES = "bienban"
    RESOLUTION = "nghiquyet"
    COMMITTEE = "hopchiuy"
    BOOK = "sobienban"


class MeetingRecord(SQLModel, table=True):
    """One per meeting: who chaired and took the minutes, the vote, the state of the
    minutes, the resolution's number, and when the documents went out and up to Sổ tay."""

    __tablename__ = "meeting_record"
    __table_args__ = (
        UniqueConstraint("meeting_id", name="uq_meeting_record_meeting"),
        UniqueConstraint("cell_id", "resolution_year", "resolution_no",
                         name="uq_meeting_record_resolution_no"),
    )

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id")
    cell_id: int = Field(foreign_key="organisation.id", index=True)
    chair_id: int | None = Field(default=None, foreign_key="member.id")
    minute_taker_id: int | None = Field(default=None, foreign_key="member.id")
    vote_agree: int | None = None  # tán thành
    vote_disagree: int | None = None  # không tán thành
    vote_other: int | None = None  # ý kiến khác
    status: str = Field(default=RecordStatus.DRAFT.value, max_length=8)
    captured_at: datetime | None = None
    captured_by: int | None = Field(default=None, foreign_key="member.id")
    confirmed_at: datetime | None = None  # first confirmation: the correction window starts
    confirmed_by: int | None = Field(default=None, foreign_key="member.id")
    reopened_at: datetime | None = None  # the base organisation reopened corrections
    resolution_no: int | None = None  # "Số …-NQ/CB", counted per cell and year
    resolution_year: int | None = None
    resolution_at: datetime | None = None
    sent_at: datetime | None = None  # the resolution/conclusion went to members
    sotay_before_at: datetime | None = None  # documents posted to Sổ tay before the meeting
    sotay_before_link: str | None = Field(default=None, max_length=500)
    sotay_after_at: datetime | None = None  # final documents posted to Sổ tay
    sotay_after_link: str | None = Field(default=None, max_length=500)
    overrides: dict[str, Any] = json_field(nullable=False)  # criterion -> [points, reason]


class Opinion(SQLModel, table=True):
    """One opinion voiced at the meeting, under its speaker's name."""

    __table_args__ = (Index("ix_opinion_meeting_position", "meeting_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id")
    position: int
    member_id: int | None = Field(default=None, foreign_key="member.id")
    speaker: str = Field(max_length=120)
    text: str = Field(max_length=2000)


class ItemConclusion(SQLModel, table=True):
    """The chair's conclusion on one agenda item (position 0: the meeting as a whole)."""

    __tablename__ = "item_conclusion"
    __table_args__ = (UniqueConstraint("meeting_id", "position",
                                       name="uq_item_conclusion_position"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    position: int
    text: str = Field(max_length=2000)


class Guest(SQLModel, table=True):
    """Someone who attended without being due: the upper-level committee member, others."""

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    name: str = Field(max_length=120)
    title: str | None = Field(default=None, max_length=200)
    upper_level: bool = False
    member_id: int | None = Field(default=None, foreign_key="member.id")


class DocumentRevision(SQLModel, table=True):
    """Every generated document, each revision kept; ``final`` marks confirmed ones."""

    __tablename__ = "document_revision"
    __table_args__ = (UniqueConstraint("meeting_id", "doc_type", "revision",
                                       name="uq_document_revision"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    doc_type: str = Field(max_length=16)
    revision: int
    final: bool = False
    file_id: int = Field(foreign_key="stored_file.id")
    created_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow)


class CommitteeMeeting(SQLModel, table=True):
    """The chi ủy's preparation meeting before a regular meeting (its short minutes)."""

    __tablename__ = "committee_meeting"
    __table_args__ = (UniqueConstraint("meeting_id", name="uq_committee_meeting_meeting"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id")
    held_at: datetime
    attendees: dict[str, Any] = json_field(nullable=False)  # {"ids": [...], "names": [...]}
    content: str = Field(max_length=3000)
    recorded_by: int | None = Field(default=None, foreign_key="member.id")
    recorded_at: datetime = Field(default_factory=utcnow)


# -- queries ---------------------------------------------------------------------------
def record_of(s: Session, meeting_id: int) -> MeetingRecord | None:
    return s.exec(select(MeetingRecord).where(MeetingRecord.meeting_id == meeting_id)).first()


def record_for(s: Session, meeting_id: int, cell_id: int) -> MeetingRecord:
    """The meeting's record, or a new one (not yet added) where it has none."""
    return record_of(s, meeting_id) or MeetingRecord(meeting_id=meeting_id, cell_id=cell_id)


def opinions_of(s: Session, meeting_id: int) -> list[Opinion]:
    return list(s.exec(select(Opinion).where(Opinion.meeting_id == meeting_id)
                       .order_by(Opinion.position)))


def conclusions_of(s: Session, meeting_id: int) -> dict[int, str]:
    return {c.position: c.text for c in s.exec(
        select(ItemConclusion).where(ItemConclusion.meeting_id == meeting_id))}


def guests_of(s: Session, meeting_id: int) -> list[Guest]:
    return list(s.exec(select(Guest).where(Guest.meeting_id == meeting_id).order_by(Guest.id)))


def committee_of(s: Session, meeting_id: int) -> CommitteeMeeting | None:
    return s.exec(select(CommitteeMeeting)
                  .where(CommitteeMeeting.meeting_id == meeting_id)).first()


def revisions_of(s: Session, meeting_id: int, doc_type: str) -> list[DocumentRevision]:
    return list(s.exec(select(DocumentRevision).where(
        DocumentRevision.meeting_id == meeting_id, DocumentRevision.doc_type == doc_type)
        .order_by(DocumentRevision.revision)))


def latest_revision(s: Session, meeting_id: int, doc_type: str, *,
                    final: bool = False) -> DocumentRevision | None:
    q = select(DocumentRevision).where(DocumentRevision.meeting_id == meeting_id,
                                       DocumentRevision.doc_type == doc_type)
    if final:
        q = q.where(DocumentRevision.final == True)  # noqa: E712
    return s.exec(q.order_by(DocumentRevision.revision.desc())).first()


def next_resolution_no(s: Session, cell_id: int, year: int) -> int:
    """The next "Số …-NQ/CB" of the cell in ``year`` (the unique constraint guards races)."""
    top = s.exec(select(func.max(MeetingRecord.resolution_no)).where(
        MeetingRecord.cell_id == cell_id, MeetingRecord.resolution_year == year)).one()
    return (top or 0) + 1


def cells_without_upper_attendee(s: Session, root_path: str,
                                 months: list[str]) -> list[tuple[int, str]]:
    """Active cells under ``root_path`` whose meetings in ``months`` had no upper-level
    committee member among the recorded guests (HD 42: at least once a quarter)."""
    from models.meeting import Meeting
    from models.org import CELL_KINDS, Organisation

    attended = (select(Guest.id).join(Meeting, Meeting.id == Guest.meeting_id)
                .where(Meeting.cell_id == Organisation.id, Meeting.period.in_(months),
                       Guest.upper_level == True)  # noqa: E712
                .exists())
    return [(r[0], r[1]) for r in s.exec(
        select(Organisation.id, Organisation.name)
        .where(Organisation.path.like(root_path + "%"), Organisation.kind.in_(CELL_KINDS),
               Organisation.active == True, ~attended)  # noqa: E712
        .order_by(Organisation.path)).all()]
