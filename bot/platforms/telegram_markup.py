"""Keyboards in the Bot API's shape: as JSON for the calls chibot makes itself, as PTB's
object for PTB's own methods (documents, photos)."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup

from models.messages import Button, Keyboard


def markup_json(buttons: Keyboard) -> dict[str, Any] | None:
    """The keyboard as the Bot API's JSON, for calls made without PTB objects."""
    if not buttons:
        return None
    return {"inline_keyboard": [[button_json(b) for b in row] for row in buttons]}


def button_json(b: Button) -> dict[str, Any]:
    """A press, a link, or a Mini App (``web_app``: the Bot API takes it in private chats
    only; the core sends a plain link to groups)."""
    if b.kind == "url":
        return {"text": b.label, "url": b.data}
    if b.kind == "web_app":
        return {"text": b.label, "web_app": {"url": b.data}}
    return {"text": b.label, "callback_data": b.data}


def markup(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    """The same keyboard as PTB's object, for PTB's own methods (documents, photos)."""
    data = markup_json(buttons)
    return InlineKeyboardMarkup.de_json(data) if data else None
