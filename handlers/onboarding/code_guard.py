"""Slows down guessing of link codes: after MAX_WRONG wrong codes within WINDOW an
account's next attempts are refused politely until the window has passed."""

from __future__ import annotations

import logging
import math

from handlers.core.context import Ctx
from models.attempt import MAX_WRONG, locked_for, record_wrong
from models.i18n import _

log = logging.getLogger(__name__)


def code_hint(code: str) -> str:
    """What a log line may show of a code typed by someone: a wrong code for one purpose
    may be a right one for another, so never the whole of it."""
    return f"{code[:2]}…({len(code)})"


def code_locked(ctx: Ctx) -> bool:
    """True (and the member told when to try again) while the account is locked."""
    inc = ctx.incoming
    wait = locked_for(ctx.session, platform=inc.platform, user_id=inc.sender.id, now=ctx.now())
    if wait is None:
        return False
    log.warning("link code attempt refused: %s:%s is locked for %s", inc.platform,
                inc.sender.id, wait)
    ctx.reply(_("Đồng chí đã nhập sai mã {n} lần liên tiếp. Để bảo vệ tài khoản của các đồng "
                "chí, bot tạm dừng nhận mã từ tài khoản này; đồng chí vui lòng thử lại sau "
                "{minutes} phút hoặc liên hệ đồng chí Bí thư chi bộ.").format(
        n=MAX_WRONG, minutes=math.ceil(wait.total_seconds() / 60)))
    return True


def wrong_code(ctx: Ctx, message: str) -> None:
    """Count a wrong code for the sender and reply ``message``."""
    inc = ctx.incoming
    record_wrong(ctx.session, platform=inc.platform, user_id=inc.sender.id, now=ctx.now())
    ctx.reply(message)
