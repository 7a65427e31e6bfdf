"""Linking accounts to members and group chats to cells; /help, /lang; chat lifecycle."""

from __future__ import annotations

import logging

from sqlmodel import select

from handlers.core.access import can_manage_cell, led_cells, oversees
from handlers.core.context import Ctx, column
from handlers.core.labels import group_of
from handlers.core.notify import officers_above, send_private
from handlers.core.router import Where, Who, callback, command, on_event
from handlers.onboarding.code_guard import code_hint, code_locked, wrong_code
from handlers.onboarding.help import refresh_menu
from handlers.onboarding.identity_notice import tell_replaced
from models.audit import audit
from models.i18n import N_, _, fmt_datetime, use_locale
from models.member import Identity, Member, find_link_code, new_link_code
from models.org import Organisation, move_chat, subtree_cells
from models.text import fold

log = logging.getLogger(__name__)


@command("start", who=Who.ANYONE, where=Where.PRIVATE, summary=N_("Bắt đầu, liên kết tài khoản"))
def start(ctx: Ctx, args: list[str], rest: str) -> None:
    if args:
        _redeem_member_code(ctx, args[0])
        return
    if ctx.actor.linked and ctx.actor.member:
        ctx.reply(_("Kính chào đồng chí {name}. Đồng chí gõ /help để xem các lệnh.")
                  .format(name=ctx.actor.member.full_name))
    else:
        ctx.reply(_("Kính chào đồng chí. Đây là bot hỗ trợ sinh hoạt chi bộ. Để sử dụng, đồng chí "
                    "gửi /start MÃ với mã liên kết do đồng chí Bí thư chi bộ cung cấp."))


def _redeem_member_code(ctx: Ctx, code: str) -> None:
    s, inc = ctx.session, ctx.incoming
    if code_locked(ctx):
        return
    link = find_link_code(s, code=code, purpose="member", now=ctx.now())
    member = s.get(Member, link.member_id) if link is not None and link.member_id else None
    if link is None or member is None or not member.active:
        log.info("bad member link code %s from %s:%s", code_hint(code), inc.platform,
                 inc.sender.id)
        wrong_code(ctx, _("Mã liên kết không đúng hoặc đã hết hạn. Đồng chí vui lòng xin mã "
                          "mới từ đồng chí Bí thư chi bộ."))
        return
    mine = ctx.actor.identity
    if mine is not None and mine.member_id != member.id:
        ctx.reply(_("Tài khoản này đã liên kết với một hồ sơ khác. Đồng chí liên hệ Bí thư "
                    "chi bộ nếu cần thay đổi."))
        return
    # One account per member and platform: a new phone replaces the old account.
    old = s.exec(select(Identity).where(Identity.platform == inc.platform,
                                        Identity.member_id == member.id)).first()
    if old is not None and old.platform_user_id != inc.sender.id:
        audit(s, "identity.replaced", "member", member.id, member.id,
              old_user=old.platform_user_id, new_user=inc.sender.id)
        tell_replaced(ctx, member, old, link)
        s.delete(old)
        s.flush()
    if mine is None:
        s.add(Identity(member_id=member.id or 0, platform=inc.platform,
                       platform_user_id=inc.sender.id, display_name=inc.sender.name,
                       private_chat_id=inc.chat.id, linked_at=ctx.now()))
    if member.preferred_platform is None:
        member.preferred_platform = inc.platform
        s.add(member)
    link.used_at = ctx.now()
    s.add(link)
    audit(s, "identity.linked", "member", member.id, member.id, platform=inc.platform)
    s.flush()
    refresh_menu(s, member, ctx.now())  # a secretary's menu is a secretary's from the start
    with use_locale(member.locale or ctx.settings.locale):
        ctx.reply(_("Đã liên kết tài khoản với hồ sơ của đồng chí {name}. Từ nay đồng chí sẽ "
                    "nhận thông báo sinh hoạt chi bộ tại đây. Gõ /help để xem các lệnh.")
                  .format(name=member.full_name))


@command("lang", "ngonngu", who=Who.LINKED, where=Where.ANY,
         summary=N_("Đổi ngôn ngữ (Tiếng Việt / English)"))
def lang(ctx: Ctx, args: list[str], rest: str) -> None:
    if args and fold(args[0]) in ("vi", "en"):
        _set_lang(ctx, fold(args[0]))
        return
    ctx.reply(_("Chọn ngôn ngữ:"), column([("Tiếng Việt", "lang:vi"), ("English", "lang:en")], 2))


@callback("lang", who=Who.LINKED)
def _lang_button(ctx: Ctx, parts: list[str]) -> None:
    if len(parts) != 1 or parts[0] not in ("vi", "en"):
        ctx.reply(_("Nút này không còn hiệu lực."))
        return
    _set_lang(ctx, parts[0])


def _set_lang(ctx: Ctx, code: str) -> None:
    member = ctx.actor.member
    assert member is not None
    member.locale = code
    ctx.session.add(member)
    ctx.session.flush()
    refresh_menu(ctx.session, member, ctx.now())  # the menu follows the chosen language
    with use_locale(code):
        ctx.reply(_("Đã chuyển sang tiếng Việt."))


@command("code", "ma", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Lấy mã liên kết: /code nhom hoặc /code TÊN ĐẢNG VIÊN"))
def code(ctx: Ctx, args: list[str], rest: str) -> None:
    """Secretaries get codes for their cell; officers for any cell of their subtree."""
    s = ctx.session
    cells = _manageable_cells(ctx)
    if not cells:
        ctx.deny("not a cell leader nor officer")
        return
    if not rest:
        ctx.reply(_("Cú pháp: /code nhom [tên chi bộ] để lấy mã gắn nhóm, hoặc "
                    "/code TÊN để lấy mã liên kết cho một đảng viên."))
        return
    if fold(args[0]) == "nhom":
        target = _pick_cell(cells, " ".join(args[1:]))
        if target is None:
            ctx.reply(_("Đồng chí vui lòng ghi rõ tên chi bộ: /code nhom TÊN CHI BỘ."))
            return
        link = new_link_code(s, purpose="chat", org_id=target.id, now=ctx.now(),
                             created_by=ctx.actor.member.id if ctx.actor.member else None)
        ctx.reply(_("Mã gắn nhóm cho {cell}: {code}\nThêm bot vào nhóm Zalo/Telegram của chi bộ "
                    "rồi gửi trong nhóm: /link {code}\nMã dùng một lần, hết hạn lúc {until}.")
                  .format(cell=target.name, code=link.code,
                          until=fmt_datetime(link.expires_at, target.timezone)))
        return
    needle = fold(rest)
    cell_ids = [c.id for c in cells]
    found = [m for m in s.exec(select(Member).where(Member.cell_id.in_(cell_ids),
                                                    Member.active == True))  # noqa: E712
             if needle in fold(m.full_name)]
    if not found:
        ctx.reply(_("Không tìm thấy đảng viên nào tên “{name}” trong chi bộ đồng chí phụ trách.")
                  .format(name=rest[:60]))
        return
    if len(found) > 1:
        ctx.reply(_("Có {n} đảng viên trùng tên, đồng chí chọn một:").format(n=len(found)),
                  column([(m.full_name, f"code:{m.id}") for m in found[:20]]))
        return
    _member_code(ctx, found[0])


@callback("code", who=Who.LINKED)
def _code_button(ctx: Ctx, parts: list[str]) -> None:
    member = ctx.by_id(Member, parts[0] if parts else None)
    cells = {c.id for c in _manageable_cells(ctx)}
    if member is None or member.cell_id not in cells:
        ctx.deny("code for a member outside the actor's cells")
        return
    _member_code(ctx, member)


def _member_code(ctx: Ctx, member: Member) -> None:
    link = new_link_code(ctx.session, purpose="member", member_id=member.id, now=ctx.now(),
                         created_by=ctx.actor.member.id if ctx.actor.member else None)
    cell = ctx.session.get(Organisation, member.cell_id)
    tz = cell.timezone if cell else ctx.settings.timezone
    ctx.reply(_("Mã liên kết của đồng chí {name}: {code}\nĐồng chí ấy mở tin nhắn riêng với bot "
                "và gửi: /start {code}\nMã dùng một lần, hết hạn lúc {until}.")
              .format(name=member.full_name, code=link.code,
                      until=fmt_datetime(link.expires_at, tz)))


def _manageable_cells(ctx: Ctx) -> list[Organisation]:
    s = ctx.session
    cells: dict[int, Organisation] = {}
    for cid in led_cells(ctx.actor):
        org = s.get(Organisation, cid)
        if org is not None and can_manage_cell(s, ctx.actor, org):
            cells[cid] = org
    for oid in ctx.actor.officer_orgs():
        root = s.get(Organisation, oid)
        if root is not None and oversees(s, ctx.actor, root):
            cells.update({c.id or 0: c for c in subtree_cells(s, root=root)})
    return list(cells.values())


def _pick_cell(cells: list[Organisation], name: str) -> Organisation | None:
    if len(cells) == 1 and not name:
        return cells[0]
    needle = fold(name)
    hits = [c for c in cells if needle and needle in fold(c.name)]
    return hits[0] if len(hits) == 1 else None


@on_event("bot_removed")
def bot_removed(ctx: Ctx) -> None:
    """The bot left or was removed from a group: stop posting there, tell the officers."""
    b = ctx.binding
    if b is None or not b.active:
        return
    b.active = False
    ctx.session.add(b)
    cell = ctx.session.get(Organisation, b.org_id)
    audit(ctx.session, "chat.unbound", "organisation", b.org_id, None,
          platform=b.platform, chat_id=b.chat_id)
    if cell is None:
        return
    for officer in officers_above(ctx.session, cell):
        with use_locale(officer.locale):
            send_private(ctx.session, officer,
                         _("Bot đã bị gỡ khỏi {group}. Nhắc lịch sẽ gửi riêng cho từng đảng "
                           "viên cho đến khi nhóm được gắn lại.")
                         .format(group=group_of(b.title, cell.name)),
                         key=f"unbound:{b.id}:{ctx.incoming.update_id}:{officer.id}",
                         now=ctx.now())


@on_event("chat_migrated")
def chat_migrated(ctx: Ctx) -> None:
    """A Telegram group became a supergroup: the binding follows the new chat id."""
    new_id = str(ctx.incoming.extra.get("new_chat_id", ""))
    b = ctx.binding
    if b is None or not new_id:
        return
    if b.chat_id == new_id:
        return  # a send already learnt the new id from Telegram's answer
    log.info("chat %s:%s migrated to %s", b.platform, b.chat_id, new_id)
    move_chat(ctx.session, b.platform, b.chat_id, new_id, ctx.now())
    audit(ctx.session, "chat.migrated", "organisation", b.org_id, None, new_chat_id=new_id)


@command("kenh", "channel", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Nhận nhắc lịch qua ứng dụng này (khi có cả Telegram và Zalo)"))
def channel(ctx: Ctx, args: list[str], rest: str) -> None:
    """Each reminder goes once, to the preferred platform; this makes it the current one."""
    member = ctx.actor.member
    assert member is not None
    member.preferred_platform = ctx.platform
    ctx.session.add(member)
    ctx.reply(_("Từ nay bot gửi nhắc lịch cho đồng chí qua {platform}.").format(
        platform=ctx.platform.capitalize()))
