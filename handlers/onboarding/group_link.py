"""Binding a group chat to a cell with a one-time code (``/link CODE``), safely.

Only the cell's secretary or deputy, or an officer above the cell, may redeem a group code.
A group already bound to another cell is not taken over silently: an officer above the
old cell confirms (an officer who oversees the old cell and links it is that confirmation),
and the old cell's officers and leaders are told. Wrong codes count toward the account's
limit (models.attempt).
"""

from __future__ import annotations

import logging

from handlers.core.access import can_manage_cell, oversees
from handlers.core.context import Ctx, column
from handlers.core.notify import officers_above, send_private
from handlers.core.router import Where, Who, callback, command
from handlers.onboarding.code_guard import code_hint, code_locked, group_scope, wrong_code
from models.audit import audit
from models.i18n import N_, _, use_locale
from models.member import LinkCode, find_link_code, members_with_role
from models.org import ChatBinding, Organisation

log = logging.getLogger(__name__)

LEADERS = ("secretary", "deputy")


@command("link", "lienket", who=Who.ANYONE, where=Where.GROUP,
         summary=N_("Gắn nhóm này với chi bộ (mã do cấp trên cấp)"))
def link_group(ctx: Ctx, args: list[str], rest: str) -> None:
    s, inc = ctx.session, ctx.incoming
    if not args:
        ctx.reply(_("Mã gắn nhóm không đúng hoặc đã hết hạn. Cú pháp: /link MÃ"))
        return
    scope = group_scope(ctx)
    if code_locked(ctx, scope):
        return
    link = find_link_code(s, code=args[0], purpose="chat", now=ctx.now())
    cell = s.get(Organisation, link.org_id) if link is not None and link.org_id else None
    if link is None or cell is None:
        log.info("bad chat link code %s in %s:%s", code_hint(args[0]), inc.platform,
                 inc.chat.id)
        wrong_code(ctx, _("Mã gắn nhóm không đúng hoặc đã hết hạn. Cú pháp: /link MÃ"), scope)
        return
    if not can_manage_cell(s, ctx.actor, cell):
        ctx.deny(f"group code of cell {cell.id} redeemed by a non-leader")
        return
    old = ctx.binding
    if old is not None and old.active and old.org_id != cell.id:
        old_cell = s.get(Organisation, old.org_id)
        if old_cell is not None and not oversees(s, ctx.actor, old_cell):
            _ask_confirmation(ctx, link, old, old_cell, cell)
            return
    if old is not None and old.active and old.org_id == cell.id:
        ctx.reply(_("Nhóm này đã được gắn với {cell}.").format(cell=cell.name))
        return
    _bind(ctx, link, cell, by=ctx.actor.member.id if ctx.actor.member else None)


def _bind(ctx: Ctx, link: LinkCode, cell: Organisation, by: int | None) -> None:
    s, inc = ctx.session, ctx.incoming
    binding = ctx.binding or ChatBinding(platform=inc.platform, chat_id=inc.chat.id,
                                         org_id=cell.id or 0)
    previous = binding.org_id if binding.id is not None and binding.active else None
    binding.org_id = cell.id or 0
    binding.active = True
    binding.title = (inc.chat.title or "")[:200] or binding.title
    binding.bound_at = ctx.now()
    binding.bound_by = by
    s.add(binding)
    link.used_at = ctx.now()
    s.add(link)
    audit(s, "chat.bound", "organisation", cell.id, by, platform=binding.platform,
          chat_id=binding.chat_id, previous_org=previous)
    if previous is not None and previous != cell.id:
        _tell_old_cell(ctx, binding, previous, cell)
    ctx.send(binding.chat_id, _("Nhóm này đã được gắn với {cell}. Bot sẽ đăng chương trình "
                                "sinh hoạt và nhắc lịch tại đây.").format(cell=cell.name),
             is_group=True, platform=binding.platform)


def _ask_confirmation(ctx: Ctx, link: LinkCode, binding: ChatBinding, old_cell: Organisation,
                      new_cell: Organisation) -> None:
    s = ctx.session
    data = f"rl:{link.code}:{binding.id}:{old_cell.id}"
    reached = 0
    for officer in officers_above(s, old_cell):
        with use_locale(officer.locale):
            text = _("Đồng chí {who} đề nghị chuyển nhóm “{title}” đang gắn với {old} sang "
                     "{new}. Đồng chí có đồng ý không?").format(
                who=ctx.actor.member.full_name if ctx.actor.member else ctx.incoming.sender.name,
                title=binding.title or binding.chat_id, old=old_cell.name, new=new_cell.name)
            reached += send_private(s, officer, text, f"relink:{link.code}:{officer.id}",
                                    now=ctx.now(), buttons=column(
                                        [(_("✅ Đồng ý chuyển"), data),
                                         (_("🚫 Không đồng ý"), data + ":no")], 2))
    log.info("relink of %s:%s from cell %s to %s asked of %d officers", binding.platform,
             binding.chat_id, old_cell.id, new_cell.id, reached)
    if not reached:
        ctx.reply(_("Nhóm này đang gắn với {old}. Việc chuyển sang {new} cần cán bộ Đảng ủy "
                    "cấp trên xác nhận, nhưng bot chưa liên lạc được với đồng chí nào; nhóm "
                    "vẫn gắn với {old}.").format(old=old_cell.name, new=new_cell.name))
        return
    ctx.reply(_("Nhóm này đang gắn với {old}. Việc chuyển sang {new} cần cán bộ Đảng ủy cấp "
                "trên xác nhận; bot đã gửi đề nghị. Trong lúc chờ, nhóm vẫn gắn với {old}.")
              .format(old=old_cell.name, new=new_cell.name))


@callback("rl", who=Who.LINKED)
def relink_decision(ctx: Ctx, parts: list[str]) -> None:
    """An officer above the old cell confirms or refuses moving the group."""
    s = ctx.session
    stale = _("Đề nghị này không còn hiệu lực; không có gì thay đổi.")
    if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] != "no"):
        ctx.reply(stale)
        return
    binding = ctx.by_id(ChatBinding, parts[1])
    old_cell = ctx.by_id(Organisation, parts[2])
    if binding is None or old_cell is None:
        ctx.reply(stale)
        return
    if not oversees(s, ctx.actor, old_cell):
        ctx.deny("relink decision by someone not above the old cell")
        return
    link = find_link_code(s, code=parts[0], purpose="chat", now=ctx.now())
    cell = s.get(Organisation, link.org_id) if link is not None and link.org_id else None
    if link is None or cell is None or not binding.active or binding.org_id != old_cell.id:
        ctx.reply(stale)
        return
    if len(parts) == 4:
        link.used_at = ctx.now()  # refused: the code cannot be tried again
        s.add(link)
        audit(s, "chat.relink_refused", "organisation", old_cell.id,
              ctx.actor.member.id if ctx.actor.member else None, chat_id=binding.chat_id,
              new_org=cell.id)
        ctx.send(binding.chat_id, _("Đề nghị chuyển nhóm sang {new} không được chấp thuận; "
                                    "nhóm vẫn gắn với {old}.").format(new=cell.name,
                                                                      old=old_cell.name),
                 is_group=True, platform=binding.platform)
        ctx.reply(_("Đã từ chối; nhóm vẫn gắn với {old}.").format(old=old_cell.name))
        return
    ctx.binding = binding
    _bind(ctx, link, cell, by=ctx.actor.member.id if ctx.actor.member else None)
    ctx.reply(_("Đã chuyển nhóm “{title}” sang {new}.").format(
        title=binding.title or binding.chat_id, new=cell.name))


def _tell_old_cell(ctx: Ctx, binding: ChatBinding, old_id: int, new: Organisation) -> None:
    s = ctx.session
    old = s.get(Organisation, old_id)
    if old is None:
        return
    people = {m.id: m for m in officers_above(s, old)}
    people.update({m.id: m for m in members_with_role(s, org_id=old_id, roles=LEADERS)})
    for m in people.values():
        with use_locale(m.locale):
            send_private(s, m, _("Nhóm “{title}” không còn gắn với {old}: từ nay nhóm thuộc "
                                 "{new}. Nhắc lịch của {old} sẽ gửi riêng cho từng đảng viên "
                                 "cho đến khi chi bộ gắn nhóm mới.").format(
                title=binding.title or binding.chat_id, old=old.name, new=new.name),
                f"relinked:{binding.id}:{ctx.incoming.update_id}:{m.id}", now=ctx.now())
