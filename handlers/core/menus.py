"""Numbered replies to button messages, for platforms (and people) without buttons.

The latest message with buttons the bot sent to this chat defines the menu: "2" or the
words of a choice act as a press of that button. The button's handler re-checks
everything, so a reply can do no more than a press could.
"""

from __future__ import annotations

from sqlmodel import select

from handlers.core.context import Ctx
from handlers.core.router import dispatch_callback, text_fallback
from models.outbox import OutboxMessage
from models.text import match_choice


def _latest_menu(ctx: Ctx) -> list[tuple[str, str]]:
    payloads = ctx.session.exec(
        select(OutboxMessage.payload)  # not the rows: they may carry a document's bytes
        .where(OutboxMessage.platform == ctx.platform,
               OutboxMessage.chat_id == ctx.incoming.chat.id)
        .order_by(OutboxMessage.id.desc()).limit(5))
    for payload in payloads:
        flat = [(lbl, data) for r in payload.get("buttons", []) for lbl, data in r]
        if flat:
            return flat
    return []


@text_fallback
def numbered_reply(ctx: Ctx) -> bool:
    text = (ctx.incoming.text or "").strip()
    if not text or len(text) > 60:
        return False
    menu = _latest_menu(ctx)
    index = match_choice(text, [lbl for lbl, _d in menu]) if menu else None
    if index is None:
        return False
    dispatch_callback(ctx, menu[index][1])
    return True
