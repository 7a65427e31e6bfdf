"""Joining a cell's group through a join request, approved by the secretary.

The second way (besides ``/start CODE``) for a member to link their account: the group's
invite link asks for approval, the bot (an admin of the group) receives the request and
asks the secretary and deputy privately which member of the cell it is. Choosing one
links the account and approves the request; "Từ chối" declines it. A user already linked
to a member of the cell is approved at once.
"""

from __future__ import annotations

import logging
from difflib import SequenceMatcher

from sqlmodel import Session, select

from handlers.core.access import can_manage_cell
from handlers.core.context import Ctx, column
from handlers.core.notify import officers_above, send_private
from handlers.core.router import Who, callback, on_event
from models.audit import audit
from models.i18n import _, use_locale
from models.joinrequest import JoinRequest, JoinStatus
from models.member import Identity, Member, cell_members, members_with_role
from models.messages import JoinDecision, Outgoing
from models.org import Organisation
from models.outbox_queue import enqueue
from models.text import fold

log = logging.getLogger(__name__)

MAX_CHOICES = 30  # a cell rarely has more unlinked members; the rest use /start CODE


@on_event("join_request")
def join_request(ctx: Ctx) -> None:
    inc, s = ctx.incoming, ctx.session
    cell = ctx.bound_cell()
    if cell is None:
        log.info("join request in unbound chat %s:%s left to the admins",
                 inc.platform, inc.chat.id)
        return
    member = ctx.actor.member
    if ctx.actor.identity is not None and member is not None and member.cell_id == cell.id:
        _decide(s, ctx, cell, _request(ctx, cell), member, approve=True, by=None)
        return
    req = _request(ctx, cell)
    candidates = _candidates(s, cell, inc.platform, inc.sender.name)
    choices = [(m.full_name, f"jr:{req.id}:{m.id}") for m in candidates[:MAX_CHOICES]]
    leaders = members_with_role(s, org_id=cell.id or 0, roles=("secretary", "deputy"))
    reached = 0
    for leader in leaders or officers_above(s, cell):
        with use_locale(leader.locale):
            text = _("Tài khoản {platform} “{name}” xin vào nhóm của {cell}. Đồng chí chọn hồ "
                     "sơ đảng viên tương ứng để duyệt và liên kết tài khoản, hoặc từ chối:"
                     ).format(platform=inc.platform.capitalize(), name=req.display_name,
                              cell=cell.name)
            if not candidates:
                text += "\n" + _("(Mọi đảng viên của chi bộ đều đã liên kết tài khoản.)")
            decline = (_("🚫 Từ chối"), f"jr:{req.id}:no")
            reached += send_private(s, leader, text, f"jr:{req.id}:{req.round}:{leader.id}",
                                    now=ctx.now(), buttons=column([*choices, decline]))
    if not reached:
        log.warning("join request %s: no leader of %s reachable privately", req.id, cell.name)


def _request(ctx: Ctx, cell: Organisation) -> JoinRequest:
    """The pending row for this user and group: new, or reopened by a new request."""
    inc, s = ctx.incoming, ctx.session
    req = s.exec(select(JoinRequest).where(
        JoinRequest.platform == inc.platform, JoinRequest.chat_id == inc.chat.id,
        JoinRequest.platform_user_id == inc.sender.id)).first()
    if req is None:
        req = JoinRequest(platform=inc.platform, chat_id=inc.chat.id, org_id=cell.id or 0,
                          platform_user_id=inc.sender.id, display_name=inc.sender.name[:200],
                          requested_at=ctx.now())
    elif req.status != JoinStatus.PENDING or req.org_id != cell.id:
        req.round += 1
    req.status, req.org_id, req.requested_at = JoinStatus.PENDING.value, cell.id or 0, ctx.now()
    req.display_name = inc.sender.name[:200]
    s.add(req)
    s.flush()
    return req


def _candidates(s: Session, cell: Organisation, platform: str, name: str) -> list[Member]:
    """Active members of the cell without an account on ``platform``, likeliest first."""
    linked = set(s.exec(select(Identity.member_id).where(Identity.platform == platform)))
    free = [m for m in cell_members(s, cell_id=cell.id or 0) if m.id not in linked]
    wanted = fold(name)
    return sorted(free, key=lambda m: (*_likeness(wanted, fold(m.full_name)), m.full_name))


def _likeness(wanted: str, name: str) -> tuple[int, float]:
    """Sort key: shared words first (the given name counts double; Telegram names are
    often written given name first), then overall similarity."""
    words, given = set(wanted.split()), name.split()
    shared = sum(2 if i == len(given) - 1 else 1 for i, w in enumerate(given) if w in words)
    return -shared, -SequenceMatcher(None, wanted, name).ratio()


@callback("jr", who=Who.LINKED)
def _choice(ctx: Ctx, parts: list[str]) -> None:
    s = ctx.session
    req = ctx.by_id(JoinRequest, parts[0] if len(parts) == 2 else None)
    cell = s.get(Organisation, req.org_id) if req is not None else None
    if req is None or cell is None or not can_manage_cell(s, ctx.actor, cell):
        ctx.deny("join request decision outside the actor's cells")
        return
    if req.status != JoinStatus.PENDING:
        decided = s.get(Member, req.member_id) if req.member_id else None
        ctx.reply(_("Yêu cầu của “{name}” đã được xử lý trước đó ({verdict}).").format(
            name=req.display_name,
            verdict=_("đã duyệt: {member}").format(member=decided.full_name) if decided
            else _("đã từ chối")))
        return
    by = ctx.actor.member.id if ctx.actor.member else None
    if parts[1] == "no":
        _decide(s, ctx, cell, req, None, approve=False, by=by)
        ctx.reply(_("Đã từ chối yêu cầu vào nhóm của “{name}”.").format(name=req.display_name))
        return
    member = ctx.by_id(Member, parts[1])
    if member is None or member.cell_id != cell.id or not member.active:
        ctx.reply(_("Đảng viên này không thuộc {cell}. Đồng chí chọn lại.")
                  .format(cell=cell.name))
        return
    taken = s.exec(select(Identity).where(
        Identity.platform == req.platform,
        (Identity.member_id == member.id) | (Identity.platform_user_id == req.platform_user_id)
    )).first()
    if taken is not None:
        ctx.reply(_("Không liên kết được: đồng chí {name} đã có tài khoản {platform}, hoặc tài "
                    "khoản này đã gắn với hồ sơ khác. Đồng chí dùng /code để cấp mã mới nếu "
                    "cần thay tài khoản.").format(name=member.full_name,
                                                  platform=req.platform.capitalize()))
        return
    s.add(Identity(member_id=member.id or 0, platform=req.platform,
                   platform_user_id=req.platform_user_id, display_name=req.display_name,
                   linked_at=ctx.now()))
    if member.preferred_platform is None:
        member.preferred_platform = req.platform
        s.add(member)
    audit(s, "identity.linked", "member", member.id, by, platform=req.platform,
          via="join_request")
    _decide(s, ctx, cell, req, member, approve=True, by=by)
    ctx.reply(_("Đã duyệt “{name}” vào nhóm và liên kết với hồ sơ của đồng chí {member}.")
              .format(name=req.display_name, member=member.full_name))


def _decide(s: Session, ctx: Ctx, cell: Organisation, req: JoinRequest, member: Member | None,
            *, approve: bool, by: int | None) -> None:
    req.status = (JoinStatus.APPROVED if approve else JoinStatus.DECLINED).value
    req.member_id = member.id if member else None
    req.decided_by, req.decided_at = by, ctx.now()
    s.add(req)
    audit(s, "join.approved" if approve else "join.declined", "organisation", cell.id, by,
          platform=req.platform, chat_id=req.chat_id, user=req.platform_user_id)
    enqueue(s, Outgoing(platform=req.platform, chat_id=req.chat_id, text="",
                        join=JoinDecision(req.platform_user_id, approve),
                        key=f"join:{req.id}:{req.round}"), now=ctx.now(), is_group=True)
    if approve and member is not None:
        with use_locale(ctx.settings.locale):
            ctx.send(req.chat_id, _("Chào mừng đồng chí {name} vào nhóm sinh hoạt của {cell}. "
                                    "Để nhận nhắc lịch riêng, đồng chí mở tin nhắn với bot và "
                                    "gửi /start.").format(name=member.full_name, cell=cell.name),
                     is_group=True, platform=req.platform, key=f"welcome:{req.id}:{req.round}")
