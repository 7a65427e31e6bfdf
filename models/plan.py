"""The cell's thematic plan for a year: 3–4 registered topics (title, quarter, category,
presenter), each linked to the thematic meeting that took it up. Categories are data
(locales/plan/categories.toml)."""

from __future__ import annotations

import tomllib
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Index, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Field, Session, SQLModel
from sqlmodel import select as sm_select

from models.base import utcnow
from models.meeting import Meeting
from models.org import CELL_KINDS, Organisation
from models.reports import in_year, plain_rows, year_bounds

MAX_TOPICS = 4
MIN_TOPICS = 3


class ThematicTopic(SQLModel, table=True):
    __tablename__ = "thematic_topic"
    __table_args__ = (Index("ix_topic_cell_year", "cell_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    cell_id: int = Field(foreign_key="organisation.id")
    year: int
    quarter: int
    title: str = Field(max_length=300)
    category: str = Field(max_length=32)
    presenter: str | None = Field(default=None, max_length=120)
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id")
    created_at: datetime = Field(default_factory=utcnow)


class Category(BaseModel):
    id: str
    title: str
    title_en: str = ""


@cache
def categories(directory: Path) -> list[Category]:
    data = tomllib.loads((Path(directory) / "categories.toml").read_text(encoding="utf-8"))
    return [Category.model_validate(c) for c in data["categories"]]


def topics(session: Session, *, cell_id: int, year: int) -> list[ThematicTopic]:
    return list(session.exec(sm_select(ThematicTopic).where(
        ThematicTopic.cell_id == cell_id, ThematicTopic.year == year)
        .order_by(ThematicTopic.quarter, ThematicTopic.id)))


def is_thematic_clause() -> Any:
    return or_(Meeting.kind.in_(("thematic", "forum")), Meeting.thematic_part == True)  # noqa: E712


def link_topics(session: Session, *, cell_id: int, year: int) -> int:
    """Link each unlinked topic to a held thematic meeting of its quarter that no topic
    has yet (oldest first); returns how many were linked."""
    plan = topics(session, cell_id=cell_id, year=year)
    taken = {t.meeting_id for t in plan if t.meeting_id}
    held = list(session.exec(sm_select(Meeting).where(
        Meeting.cell_id == cell_id, Meeting.period.startswith(f"{year:04d}-"),
        Meeting.status == "held", Meeting.kind != "forum", is_thematic_clause())
        .order_by(Meeting.scheduled_at)))
    n = 0
    for t in plan:
        if t.meeting_id:
            continue
        for m in held:
            if m.id not in taken and (int(m.period[5:7]) - 1) // 3 + 1 == t.quarter:
                t.meeting_id = m.id
                taken.add(m.id)
                session.add(t)
                n += 1
                break
    return n


@cache
def _plan_stmt() -> Any:
    """Per cell of the subtree: topics registered and taken up; forums held.

    Both read only the subtree's own meetings: a topic's meeting by its id, the forums per
    cell through the (cell, period, kind) key. They used to read every held meeting and
    every forum of the database first (a base organisation's plan 35 ms, now ~1 ms)."""
    forums = (select(func.count()).select_from(Meeting)
              .where(Meeting.cell_id == Organisation.id, Meeting.kind == "forum",
                     Meeting.status == "held", in_year(Meeting.period))
              .correlate(Organisation).scalar_subquery())
    taken = aliased(Meeting, name="taken")
    parent = aliased(Organisation, name="parent")
    return (select(Organisation.id.label("cell_id"), Organisation.name.label("cell"),
                   parent.name.label("parent"),
                   func.count(ThematicTopic.id).label("registered"),
                   func.sum(case((taken.status == "held", 1), else_=0)).label("done"),
                   forums.label("forums"))
            .select_from(Organisation)
            .outerjoin(parent, parent.id == Organisation.parent_id)
            .outerjoin(ThematicTopic, and_(ThematicTopic.cell_id == Organisation.id,
                                           ThematicTopic.year == bindparam("year")))
            .outerjoin(taken, taken.id == ThematicTopic.meeting_id)
            .where(Organisation.path.like(bindparam("prefix")),
                   Organisation.kind.in_(CELL_KINDS), Organisation.active == True)  # noqa: E712
            .group_by(Organisation.id, Organisation.name, parent.name, Organisation.path)
            .order_by(Organisation.path))


@cache
def _mix_stmt() -> Any:
    return (select(ThematicTopic.category.label("category"), func.count().label("n"))
            .join(Organisation, Organisation.id == ThematicTopic.cell_id)
            .where(Organisation.path.like(bindparam("prefix")),
                   ThematicTopic.year == bindparam("year"))
            .group_by(ThematicTopic.category).order_by(ThematicTopic.category))


def plan_rows(session: Session, root: Organisation, year: int) -> list[dict[str, Any]]:
    params = {"prefix": root.path + "%", "year": year, **year_bounds(year)}
    return plain_rows(session.execute(_plan_stmt(), params))


def category_mix(session: Session, root: Organisation, year: int) -> dict[str, int]:
    rows = session.execute(_mix_stmt(), {"prefix": root.path + "%", "year": year})
    return {r.category: r.n for r in rows}
