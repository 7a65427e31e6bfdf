"""/web: a one-time link to the web view, sent privately (never into a group chat, where
anyone could open it first). On Telegram, with an HTTPS address, a Mini App button comes
with it; Zalo and the console get the plain link."""

from __future__ import annotations

from handlers.core.access import led_cells
from handlers.core.context import Ctx
from handlers.core.notify import private_target
from handlers.core.router import Where, Who, command
from models.audit import audit
from models.i18n import N_, _
from models.messages import Button, Outgoing
from models.outbox_queue import enqueue
from models.web import LINK_TTL, mint_link

LINK_PATH = "/web/l/"
MINI_APP_PATH = "/web/tg"


@command("web", who=Who.LINKED, where=Where.ANY,
         summary=N_("Mở trang theo dõi trên trình duyệt (liên kết dùng một lần)"))
def web(ctx: Ctx, args: list[str], rest: str) -> None:
    member = ctx.actor.member
    assert member is not None  # Who.LINKED
    if not ctx.settings.web.enabled:
        ctx.reply(_("Trang theo dõi chưa được bật trên máy chủ này."))
        return
    target = (ctx.platform, ctx.incoming.chat.id) if not ctx.in_group \
        else private_target(ctx.session, member)
    if target is None:
        ctx.reply(_("Đồng chí nhắn riêng /web cho bot để nhận liên kết vào trang theo dõi."))
        return
    base = ctx.settings.web.base_url
    token = mint_link(ctx.session, member_id=member.id or 0, now=ctx.now())
    audit(ctx.session, "web_link", "member", member.id, actor_id=member.id,
          platform=ctx.platform)
    text = _("Trang theo dõi: {url}\nLiên kết dùng một lần, hết hạn sau {n} phút; chỉ "
             "dành cho đồng chí, xin đừng chuyển cho người khác.").format(
        url=base + LINK_PATH + token, n=int(LINK_TTL.total_seconds() // 60))
    kb: tuple[tuple[Button, ...], ...] = ()
    mini_app = target[0] == "telegram" and base.startswith("https://")
    if mini_app:
        # Telegram refuses web_app buttons in groups; this one goes to the private chat.
        kb = ((Button(_("📊 Mở trang theo dõi"), base + MINI_APP_PATH, "web_app"),),)
    ctx.send(target[1], text, kb, platform=target[0])
    if mini_app and (ctx.actor.officer_orgs() or led_cells(ctx.actor)):
        # Officers and secretaries keep it in the chat's menu button too (once per chat).
        enqueue(ctx.session, Outgoing(
            platform="telegram", chat_id=target[1], text=_("Theo dõi"),
            key=f"menu:web:{target[1]}", menu_button=base + MINI_APP_PATH), now=ctx.now())
    if ctx.in_group:
        ctx.reply(_("Đã gửi liên kết vào tin nhắn riêng của đồng chí."))
