"""Slows down guessing of link codes (limits in models.attempt): per account, per cell
for group codes, per deployment. A refused attempt is told politely when to try again."""

from __future__ import annotations

import logging
import math
from datetime import timedelta

from handlers.core.access import led_cells
from handlers.core.context import Ctx
from models.attempt import MAX_WRONG, record_wrong, refusal
from models.i18n import _

log = logging.getLogger(__name__)


def code_hint(code: str) -> str:
    """What a log line may show of a code typed by someone: a wrong code for one purpose
    may be a right one for another, so never the whole of it."""
    return f"{code[:2]}…({len(code)})"


def group_scope(ctx: Ctx) -> str:
    """The scope of a group code typed here: the cell the group is bound to, else the
    group itself (so guesses spread over one cell's groups share one limit)."""
    b, inc = ctx.binding, ctx.incoming
    if b is not None and b.active:
        return f"cell:{b.org_id}"
    return f"chat:{inc.platform}:{inc.chat.id}"


def _trusted(ctx: Ctx, scope: str | None) -> bool:
    """Accounts the wider limits never hold back: a linked member for member codes, a
    cell leader or officer for group codes (only they may redeem one)."""
    actor = ctx.actor
    if scope is None:
        return actor.linked
    return actor.linked and bool(led_cells(actor) or actor.officer_orgs())


def _duration(wait: timedelta) -> str:
    minutes = math.ceil(wait.total_seconds() / 60)
    if minutes <= 90:
        return _("{n} phút").format(n=minutes)
    return _("{n} giờ").format(n=math.ceil(minutes / 60))


def code_locked(ctx: Ctx, scope: str | None = None) -> bool:
    """True (and the sender told when to try again) while a limit holds this attempt
    back; ``scope`` is :func:`group_scope` for a group code, None for a member code."""
    inc = ctx.incoming
    r = refusal(ctx.session, platform=inc.platform, user_id=inc.sender.id, now=ctx.now(),
                scope=scope, trusted=_trusted(ctx, scope))
    if r is None:
        return False
    log.warning("link code attempt refused (%s limit): %s:%s waits %s", r.reason,
                inc.platform, inc.sender.id, r.wait)
    if r.reason == "account":
        ctx.reply(_("Đồng chí đã nhập sai mã {n} lần liên tiếp. Để bảo vệ tài khoản của các "
                    "đồng chí, bot tạm dừng nhận mã từ tài khoản này; đồng chí vui lòng thử "
                    "lại sau {minutes} phút hoặc liên hệ đồng chí Bí thư chi bộ.").format(
            n=MAX_WRONG, minutes=math.ceil(r.wait.total_seconds() / 60)))
    elif r.reason == "group":
        ctx.reply(_("Nhóm này vừa có nhiều lần nhập sai mã gắn nhóm. Để bảo vệ chi bộ, bot "
                    "tạm dừng nhận mã trong nhóm này; đồng chí vui lòng thử lại sau {wait}. "
                    "Đồng chí Bí thư chi bộ vẫn có thể gắn nhóm.").format(
            wait=_duration(r.wait)))
    else:
        ctx.reply(_("Gần đây có nhiều lần nhập sai mã liên kết. Để bảo vệ tài khoản của các "
                    "đồng chí, bot tạm dừng nhận mã từ tài khoản vừa nhập sai; đồng chí vui "
                    "lòng thử lại sau {wait} hoặc liên hệ đồng chí Bí thư chi bộ.").format(
            wait=_duration(r.wait)))
    return True


def wrong_code(ctx: Ctx, message: str, scope: str | None = None) -> None:
    """Count a wrong code for the sender (and the group's scope) and reply ``message``."""
    inc = ctx.incoming
    record_wrong(ctx.session, platform=inc.platform, user_id=inc.sender.id, now=ctx.now(),
                 scope=scope)
    ctx.reply(message)
