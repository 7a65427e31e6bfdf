"""The organisation tree (bloc -> base organisation -> ... -> cell -> party group)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import UniqueConstraint, bindparam, or_, update
from sqlmodel import Field, Session, SQLModel, select

from models.base import utcnow

log = logging.getLogger(__name__)


class OrgKind(StrEnum):
    BLOC = "bloc"  # Đảng bộ Khối
    BASE_COMMITTEE = "base_committee"  # Đảng bộ cơ sở
    SUB_COMMITTEE = "sub_committee"  # Đảng bộ bộ phận
    BASE_CELL = "base_cell"  # Chi bộ cơ sở (a cell that is itself a base organisation)
    CELL = "cell"  # Chi bộ trực thuộc
    GROUP = "group"  # Tổ đảng


CELL_KINDS = (OrgKind.CELL.value, OrgKind.BASE_CELL.value)
BASE_KINDS = (OrgKind.BASE_COMMITTEE.value, OrgKind.BASE_CELL.value)


class Organisation(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_org_parent_name"),)

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    kind: str = Field(max_length=20)
    name: str = Field(max_length=200)
    # Materialised path "/1/7/23/" so a subtree is one indexed LIKE prefix query.
    path: str = Field(default="", max_length=400, index=True)
    timezone: str = Field(default="Asia/Ho_Chi_Minh", max_length=64)
    locale: str = Field(default="vi", max_length=8)
    rubric_id: str | None = Field(default=None, max_length=64)
    meeting_rule: str | None = Field(default=None, max_length=64)
    meeting_time: str | None = Field(default=None, max_length=5)
    # The secretary's choice of when the notice (agenda) goes out: days before the
    # meeting's date, at a local time ("08:00" two days before); None: the deployment's.
    notice_days: int | None = None
    notice_time: str | None = Field(default=None, max_length=5)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def is_cell(self) -> bool:
        return self.kind in CELL_KINDS


class ChatBinding(SQLModel, table=True):
    """A platform group chat bound to a cell."""

    __table_args__ = (UniqueConstraint("platform", "chat_id", name="uq_binding_chat"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    title: str | None = Field(default=None, max_length=200)
    active: bool = True
    bound_at: datetime = Field(default_factory=utcnow)
    bound_by: int | None = Field(default=None, foreign_key="member.id")
    # A Telegram group upgraded to a supergroup gets a new id; the old one stays accepted
    # for a while (updates already in flight, buttons of older posts).
    previous_chat_id: str | None = Field(default=None, max_length=64)
    migrated_at: datetime | None = None


ALIAS_DAYS = 30  # the old id of a group upgraded to a supergroup stays accepted this long


def binding_for(session: Session, platform: str, chat_id: str,
                now: datetime | None = None) -> ChatBinding | None:
    """The binding of a group chat, by its id or, for ``ALIAS_DAYS`` after the group was
    upgraded to a supergroup, by its old id."""
    rows = list(session.exec(select(ChatBinding).where(
        ChatBinding.platform == platform,
        or_(ChatBinding.chat_id == chat_id, ChatBinding.previous_chat_id == chat_id))))
    for b in rows:
        if b.chat_id == chat_id:
            return b
    now = now or utcnow()
    for b in rows:
        moved = b.migrated_at
        if moved is not None and moved.tzinfo is None:
            moved = moved.replace(tzinfo=UTC)  # SQLite hands datetimes back naive
        if moved is not None and moved >= now - timedelta(days=ALIAS_DAYS):
            return b
    return None


def move_chat(session: Session, platform: str, old: str, new: str, now: datetime) -> None:
    """A group chat got a new id: its binding and every message still queued follow it."""
    from models.outbox import OutboxMessage, OutboxStatus

    for b in session.exec(select(ChatBinding).where(ChatBinding.platform == platform,
                                                    ChatBinding.chat_id == old)):
        log.warning("chat %s:%s was upgraded to %s; binding moved", platform, old, new)
        b.chat_id, b.previous_chat_id, b.migrated_at = new, old, now
        session.add(b)
    session.execute(update(OutboxMessage).where(
        OutboxMessage.platform == platform, OutboxMessage.chat_id == old,
        OutboxMessage.status == OutboxStatus.PENDING.value).values(chat_id=new))


def add_org(session: Session, *, name: str, kind: str, parent: Organisation | None,
            timezone: str = "Asia/Ho_Chi_Minh") -> Organisation:
    org = Organisation(name=name, kind=kind, parent_id=parent.id if parent else None,
                       timezone=parent.timezone if parent else timezone)
    session.add(org)
    session.flush()
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    session.add(org)
    return org


def subtree_cells(session: Session, *, root: Organisation) -> list[Organisation]:
    return list(session.exec(
        select(Organisation).where(Organisation.path.startswith(root.path),
                                   Organisation.kind.in_(CELL_KINDS),
                                   Organisation.active == True)  # noqa: E712
        .order_by(Organisation.path)))


@cache
def _by_ids_stmt() -> Any:
    return select(Organisation).where(Organisation.id.in_(bindparam("ids", expanding=True)))


def lineage(session: Session, org: Organisation) -> list[Organisation]:
    """``org`` and its ancestors, top first."""
    ids = [int(p) for p in org.path.strip("/").split("/") if p]
    found = {o.id: o for o in session.scalars(_by_ids_stmt(), {"ids": ids})}
    return [found[i] for i in ids if i in found]
