"""Where to reach a member or a cell, and queuing messages to them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from models.member import Identity, Member, RoleAssignment
from models.messages import Attachment, Keyboard, Outgoing
from models.org import ChatBinding, Organisation
from models.outbox_queue import enqueue


def private_target(session: Session, member: Member,
                   avoid: str | None = None) -> tuple[str, str] | None:
    """The member's private chat on their preferred platform (each reminder goes once);
    ``avoid`` names a platform to use only when there is no other."""
    idents = [i for i in session.exec(select(Identity).where(Identity.member_id == member.id))
              if i.private_chat_id and i.blocked_at is None]
    if not idents:
        return None
    idents.sort(key=lambda i: (i.platform == avoid, i.platform != member.preferred_platform,
                               i.linked_at))
    return idents[0].platform, idents[0].private_chat_id or ""


def group_targets(session: Session, org_id: int) -> list[ChatBinding]:
    return list(session.exec(select(ChatBinding).where(ChatBinding.org_id == org_id,
                                                       ChatBinding.active == True)))  # noqa: E712


def send_private(
    session: Session, member: Member, text: str, key: str, *, now: datetime,
    buttons: Keyboard = (), attachment: Attachment | None = None, avoid: str | None = None,
) -> bool:
    """Queue a private message; False when the member cannot be reached privately."""
    target = private_target(session, member, avoid)
    if target is None:
        return False
    enqueue(session, Outgoing(platform=target[0], chat_id=target[1], text=text, buttons=buttons,
                              key=key, attachment=attachment), now=now)
    return True


def send_group(
    session: Session, org_id: int, text: str, key: str, *, now: datetime,
    buttons: Keyboard = (), attachment: Attachment | None = None,
) -> int:
    """Queue to every active group bound to the organisation; returns how many."""
    n = 0
    for b in group_targets(session, org_id):
        enqueue(session, Outgoing(platform=b.platform, chat_id=b.chat_id, text=text,
                                  buttons=buttons, key=f"{key}:{b.platform}:{b.chat_id}",
                                  attachment=attachment),
                now=now, is_group=True)
        n += 1
    return n


def officers_above(session: Session, org: Organisation) -> list[Member]:
    """Officers of the nearest organisation above ``org`` that has any."""
    ids = [int(p) for p in org.path.strip("/").split("/") if p][:-1]
    for org_id in reversed(ids):
        members = list(session.exec(
            select(Member).join(RoleAssignment, RoleAssignment.member_id == Member.id)
            .where(RoleAssignment.org_id == org_id, RoleAssignment.role == "officer",
                   Member.active == True)))  # noqa: E712
        if members:
            return members
    return []
