"""Meeting scores: the cell's own and the upper level's confirmed one, with every revision."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.base import utcnow


class ScoreKind(StrEnum):
    CELL = "cell"  # proposed by the chi ủy, entered by secretary/deputy
    CONFIRMED = "confirmed"  # confirmed or adjusted by the assigned upper-level member


class Score(SQLModel, table=True):
    __table_args__ = (Index("ix_score_current", "meeting_id", "kind", "is_current"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    kind: str = Field(default=ScoreKind.CELL.value, max_length=16)
    revision: int = 1
    is_current: bool = True  # older revisions stay, for the audit trail
    rubric_id: str = Field(max_length=64)
    rubric_version: str = Field(max_length=32)
    total: float
    rating: str = Field(max_length=16)  # tot | kha | trung_binh | kem
    submitted_by: int | None = Field(default=None, foreign_key="member.id")
    submitted_at: datetime = Field(default_factory=utcnow)
    reason: str | None = Field(default=None, max_length=300)  # why it was corrected/adjusted


class ScoreItem(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    score_id: int = Field(foreign_key="score.id", index=True)
    criterion_id: str = Field(max_length=64)
    points: float
    auto: bool = False
