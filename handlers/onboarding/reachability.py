"""Who cannot be reached, and telling the secretary: members who blocked the bot, messages
held back by a spent quota, members reachable neither privately nor in a group."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session, select

from handlers.core.labels import group_of
from handlers.core.notify import officers_above, send_private
from models.i18n import _, use_locale
from models.meeting import Meeting
from models.member import Identity, Member, Role, members_with_role
from models.messages import Failure
from models.org import ChatBinding, Organisation
from models.outcomes import Settled, on_failure

log = logging.getLogger(__name__)

LEADERS = (Role.SECRETARY.value, Role.DEPUTY.value)


def _leaders(s: Session, cell_id: int | None, *, but: int | None = None) -> list[Member]:
    if not cell_id:
        return []
    return [m for m in members_with_role(s, org_id=cell_id, roles=LEADERS) if m.id != but]


def _platform_name(platform: str) -> str:
    return platform.capitalize()


@on_failure(Failure.BLOCKED)
def member_blocked(s: Session, settled: Settled, now: datetime) -> None:
    """Tell the cell's secretary and deputy once per blocking episode."""
    if not settled.newly_blocked:
        return
    if settled.member_id is None:
        group_lost(s, settled, now)
        return
    member = s.get(Member, settled.member_id)
    if member is None:
        return
    ident = s.exec(select(Identity).where(Identity.member_id == member.id,
                                          Identity.platform == settled.platform)).first()
    episode = ident.blocked_at.strftime("%Y%m%d%H%M%S") if ident and ident.blocked_at else ""
    for leader in _leaders(s, member.cell_id, but=member.id):
        with use_locale(leader.locale):
            send_private(s, leader, _(
                "Đồng chí {name} đã chặn bot trên {platform}, nên không nhận được tin nhắn "
                "riêng của bot. Từ nay nhắc lịch sẽ nêu tên đồng chí ấy trong nhóm chi bộ. "
                "Đề nghị đồng chí nhắc đồng chí {name} bỏ chặn bot và gửi /start cho bot."
            ).format(name=member.full_name, platform=_platform_name(settled.platform)),
                key=f"blocked:{settled.platform}:{member.id}:{episode}:{leader.id}", now=now)


def group_lost(s: Session, settled: Settled, now: datetime) -> None:
    """A send found the bot thrown out of a bound group (no service message came): the
    officers above are told, as when the bot sees its removal."""
    b = s.exec(select(ChatBinding).where(ChatBinding.platform == settled.platform,
                                         ChatBinding.chat_id == settled.chat_id)).first()
    cell = s.get(Organisation, b.org_id) if b is not None else None
    if b is None or cell is None:
        return
    for officer in officers_above(s, cell):
        with use_locale(officer.locale):
            send_private(s, officer,
                         _("Bot đã bị gỡ khỏi {group}. Nhắc lịch sẽ gửi riêng cho từng đảng "
                           "viên cho đến khi nhóm được gắn lại.")
                         .format(group=group_of(b.title, cell.name)),
                         key=f"unbound:{b.id}:{now:%Y%m%d%H%M%S}:{officer.id}", now=now)


@on_failure(Failure.QUOTA)
def long_delay(s: Session, settled: Settled, now: datetime) -> None:
    """A message has waited long for the platform's quota: tell the secretary of the cell
    it was for (once a day per cell and platform), by another platform where possible."""
    cell_id = _cell_of_chat(s, settled.platform, settled.chat_id)
    if cell_id is None:
        return
    waited = max(int((now - _aware(settled.created_at, now)).total_seconds() // 60), 1)
    for leader in _leaders(s, cell_id):
        with use_locale(leader.locale):
            send_private(s, leader, _(
                "Tin nhắn của bot qua {platform} đang bị chậm ({minutes} phút) vì {platform} "
                "báo đã hết hạn mức gửi tin. Bot vẫn tự gửi lại; nếu việc gấp, đồng chí "
                "thông báo trực tiếp cho các đồng chí trong chi bộ."
            ).format(platform=_platform_name(settled.platform), minutes=waited),
                key=f"delayed:{settled.platform}:{cell_id}:{now:%Y%m%d}:{leader.id}", now=now,
                avoid=settled.platform)


def _cell_of_chat(s: Session, platform: str, chat_id: str) -> int | None:
    binding = s.exec(select(ChatBinding).where(ChatBinding.platform == platform,
                                               ChatBinding.chat_id == chat_id)).first()
    if binding is not None:
        return binding.org_id
    ident = s.exec(select(Identity).where(Identity.platform == platform,
                                          Identity.private_chat_id == chat_id)).first()
    member = s.get(Member, ident.member_id) if ident is not None else None
    return member.cell_id if member is not None else None


def report_unreachable(s: Session, meeting: Meeting, cell: Organisation,
                       members: list[Member], now: datetime) -> None:
    """Members the bot can reach neither privately nor in a group: listed to the secretary
    and deputy once per meeting, with what each must do to link."""
    if not members:
        return
    log.warning("meeting %s: %d members reachable neither privately nor in a group",
                meeting.id, len(members))
    names = "\n".join(f"- {m.full_name}" for m in members)
    for leader in _leaders(s, cell.id):
        with use_locale(leader.locale):
            send_private(s, leader, _(
                "Các đồng chí sau chưa nhận được thông báo và nhắc lịch sinh hoạt chi bộ: bot "
                "chưa nhắn riêng được cho các đồng chí ấy (chưa liên kết tài khoản, hoặc đã "
                "chặn bot) và chi bộ chưa gắn nhóm chat với bot.\n{names}\n\nĐể nhận được "
                "tin: đồng chí gửi /code TÊN để lấy mã cho từng đồng chí; đồng chí ấy mở tin "
                "nhắn riêng với bot và gửi /start MÃ (nếu đã chặn bot thì bỏ chặn trước). "
                "Hoặc gắn nhóm chat của chi bộ: /code nhom, rồi gửi /link MÃ trong nhóm."
            ).format(names=names), key=f"m{meeting.id}:unreachable:{leader.id}", now=now)


def _aware(when: datetime, like: datetime) -> datetime:
    if when.tzinfo is None and like.tzinfo is not None:
        return when.replace(tzinfo=like.tzinfo)
    return when
