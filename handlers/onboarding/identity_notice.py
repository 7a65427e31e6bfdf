"""When a member's code is redeemed by a second account on the same platform.

The secretary hands out a new code mostly because a member changed phone or account, so
the new account replaces the old one (refusing would lock out a member who lost the old
phone). It is never silent: the old account is told it no longer receives anything and
to report it if it was not their doing, and the one who issued the code is told too, so
a code used by the wrong person is noticed at once.
"""

from __future__ import annotations

from handlers.core.context import Ctx
from handlers.core.notify import send_private
from models.i18n import _, use_locale
from models.member import Identity, LinkCode, Member, members_with_role


def tell_replaced(ctx: Ctx, member: Member, old: Identity, link: LinkCode) -> None:
    s, inc = ctx.session, ctx.incoming
    key = f"idrepl:{old.id}:{inc.update_id}"
    if old.private_chat_id:
        with use_locale(member.locale):
            ctx.send(old.private_chat_id, _(
                "Hồ sơ của đồng chí {name} vừa được liên kết với một tài khoản {platform} khác "
                "bằng mã liên kết mới; tài khoản này không còn nhận thông báo sinh hoạt chi bộ. "
                "Nếu đồng chí không thực hiện việc này, đề nghị báo ngay cho đồng chí Bí thư "
                "chi bộ.").format(name=member.full_name, platform=inc.platform.capitalize()),
                platform=old.platform, key=f"{key}:old")
    issuer = s.get(Member, link.created_by) if link.created_by else None
    told = [issuer] if issuer is not None else members_with_role(
        s, org_id=member.cell_id or 0, roles=("secretary", "deputy"))
    for m in told:
        with use_locale(m.locale):
            send_private(s, m, _(
                "Tài khoản {platform} của đồng chí {name} đã được thay bằng tài khoản mới "
                "“{new}” (mã liên kết {code}); tài khoản cũ đã được báo và không còn nhận thông "
                "báo.").format(platform=inc.platform.capitalize(), name=member.full_name,
                               new=inc.sender.name, code=link.code),
                f"{key}:issuer{m.id}", now=ctx.now())
