"""Numbered replies to button messages, for platforms (and people) without buttons.

The latest message with buttons the bot sent to this chat defines the menu: "2" or the
words of a choice act as a press of that button. The button's handler re-checks
everything, so a reply can do no more than a press could.
"""

from __future__ import annotations

from sqlmodel import select

from handlers.context import Ctx
from handlers.router import dispatch_callback, text_fallback
from handlers.text import fold
from models.outbox import OutboxMessage


def _latest_menu(ctx: Ctx) -> list[tuple[str, str]]:
    rows = ctx.session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.platform == ctx.platform,
               OutboxMessage.chat_id == ctx.incoming.chat.id)
        .order_by(OutboxMessage.id.desc()).limit(5))
    for row in rows:
        flat = [(lbl, data) for r in row.payload.get("buttons", []) for lbl, data in r]
        if flat:
            return flat
    return []


@text_fallback
def numbered_reply(ctx: Ctx) -> bool:
    text = fold(ctx.incoming.text or "").rstrip(".")
    if not text or len(text) > 60:
        return False
    menu = _latest_menu(ctx)
    if not menu:
        return False
    if text.isdigit():
        n = int(text)
        if not 1 <= n <= len(menu):
            return False
        data = menu[n - 1][1]
    else:
        hits = [d for lbl, d in menu if fold(lbl) == text]
        if len(hits) != 1:
            return False
        data = hits[0]
    dispatch_callback(ctx, data)
    return True
