"""Members, their roles in the tree, platform identities and one-time link codes."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from models.base import utcnow


class Membership(StrEnum):
    FULL = "full"  # chính thức
    PROBATIONARY = "probationary"  # dự bị


class Role(StrEnum):
    SECRETARY = "secretary"  # bí thư
    DEPUTY = "deputy"  # phó bí thư
    COMMITTEE = "committee"  # chi ủy viên
    FOLLOWER = "follower"  # cấp ủy viên cấp trên phụ trách chi bộ
    OFFICER = "officer"  # cán bộ theo dõi (Đảng ủy cơ sở / Ban Tổ chức, Văn phòng Khối)


class Member(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Stable identity across re-imports: the party card number, else cell+name+birth date.
    import_key: str = Field(max_length=300, unique=True)
    party_code: str | None = Field(default=None, max_length=40)
    full_name: str = Field(max_length=120, index=True)
    cell_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    membership: str = Field(default=Membership.FULL.value, max_length=16)
    exempted: bool = False  # miễn sinh hoạt
    exempt_reason: str | None = Field(default=None, max_length=200)
    on_leave: bool = False  # tạm vắng có phép / đang chuyển sinh hoạt
    active: bool = True  # False once the member has left the cell
    birth_date: date | None = None
    phone: str | None = Field(default=None, max_length=20)
    # The usual monthly party fee in đồng, from the sheet's optional "Mức đóng" column.
    fee_amount: int | None = None
    locale: str | None = Field(default=None, max_length=8)
    preferred_platform: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def due_to_attend(self) -> bool:
        return self.active and not self.exempted and not self.on_leave


class RoleAssignment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("member_id", "org_id", "role", name="uq_role"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    role: str = Field(max_length=16)


class Identity(SQLModel, table=True):
    """A member's account on one platform."""

    __table_args__ = (
        UniqueConstraint("platform", "platform_user_id", name="uq_identity_user"),
        UniqueConstraint("platform", "member_id", name="uq_identity_member"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    platform: str = Field(max_length=16)
    platform_user_id: str = Field(max_length=64)
    display_name: str | None = Field(default=None, max_length=200)
    # Set once the user has opened a private chat with the bot: we may write to them.
    private_chat_id: str | None = Field(default=None, max_length=64)
    linked_at: datetime = Field(default_factory=utcnow)
    # Set when a send answered that the user blocked the bot; cleared by their next
    # private message (/start). While set, the member is not written to privately here.
    blocked_at: datetime | None = None


class LinkCode(SQLModel, table=True):
    """One-time code: links an account to a member, or a group chat to a cell."""

    code: str = Field(primary_key=True, max_length=32)
    purpose: str = Field(max_length=16)  # "member" | "chat"
    member_id: int | None = Field(default=None, foreign_key="member.id")
    org_id: int | None = Field(default=None, foreign_key="organisation.id")
    created_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def cell_members(session: Session, *, cell_id: int, include_left: bool = False) -> list[Member]:
    q = select(Member).where(Member.cell_id == cell_id)
    if not include_left:
        q = q.where(Member.active == True)  # noqa: E712
    return list(session.exec(q.order_by(Member.id)))


def roles_of(session: Session, *, member_id: int) -> list[RoleAssignment]:
    return list(session.exec(select(RoleAssignment).where(RoleAssignment.member_id == member_id)))


def new_link_code(
    session: Session, *, purpose: str, now: datetime, member_id: int | None = None,
    org_id: int | None = None, created_by: int | None = None, ttl_hours: int = 72,
) -> LinkCode:
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    link = LinkCode(code=code, purpose=purpose, member_id=member_id, org_id=org_id,
                    created_by=created_by, created_at=now,
                    expires_at=now + timedelta(hours=ttl_hours))
    session.add(link)
    session.flush()
    return link


def find_link_code(session: Session, *, code: str, purpose: str, now: datetime) -> LinkCode | None:
    """A usable code of that purpose, or None (unknown, used or expired)."""
    link = session.get(LinkCode, code.strip().upper()[:32])
    if link is None or link.purpose != purpose or link.used_at is not None:
        return None
    if link.expires_at <= now:
        return None
    return link


def due_members(session: Session, *, cell_id: int) -> list[Member]:
    """Members due to attend: active, not exempted, not away on approved leave."""
    return [m for m in cell_members(session, cell_id=cell_id) if m.due_to_attend]


def members_with_role(session: Session, *, org_id: int, roles: tuple[str, ...]) -> list[Member]:
    return list(session.exec(
        select(Member).join(RoleAssignment, RoleAssignment.member_id == Member.id)
        .where(RoleAssignment.org_id == org_id, RoleAssignment.role.in_(roles),
               Member.active == True)  # noqa: E712
        .order_by(Member.id)).unique())
