"""Telegram updates as the core's neutral ``Incoming`` (no ``telegram.*`` object leaves
the adapter's modules): messages, button presses, documents, join requests, the bot's own
removal and a group's migration to a supergroup."""

from __future__ import annotations

from typing import Any

from telegram import Update

from models.messages import Chat, Incoming, Sender

PLATFORM = "telegram"
MAX_DOWNLOAD = 20 * 1024 * 1024  # the Bot API's getFile limit


def to_incoming(update: Update, bot_id: int, username: str | None) -> Incoming | None:
    """Map an Update to the neutral Incoming; None for what the bot ignores (a command for
    another bot, a chat-member change not about this bot, a group message without text)."""
    uid = str(update.update_id)
    cq = update.callback_query
    if cq is not None:
        msg = cq.message
        chat = _chat(msg.chat) if msg is not None else Chat(str(cq.from_user.id), "private")
        return Incoming(platform=PLATFORM, update_id=uid, chat=chat,
                        sender=_sender(cq.from_user), callback_data=cq.data or "",
                        callback_id=cq.id, event="callback",
                        message_id=str(msg.message_id) if msg is not None else None)
    cjr = update.chat_join_request
    if cjr is not None:
        return Incoming(platform=PLATFORM, update_id=uid, chat=_chat(cjr.chat),
                        sender=_sender(cjr.from_user), event="join_request",
                        timestamp=cjr.date, extra={"bio": (cjr.bio or "")[:200]})
    mcm = update.my_chat_member
    if mcm is not None:
        if mcm.new_chat_member.user.id == bot_id and \
                mcm.new_chat_member.status in ("left", "kicked"):
            return Incoming(platform=PLATFORM, update_id=uid, chat=_chat(mcm.chat),
                            sender=_sender(mcm.from_user), event="bot_removed")
        return None
    msg = update.message
    if msg is None or msg.from_user is None:
        return None
    chat = _chat(msg.chat)
    if msg.migrate_to_chat_id:
        return Incoming(platform=PLATFORM, update_id=uid, chat=chat,
                        sender=_sender(msg.from_user), event="chat_migrated",
                        extra={"new_chat_id": str(msg.migrate_to_chat_id)})
    doc = msg.document
    if doc is not None and chat.kind == "private":
        name = (doc.file_name or "tai-lieu")[:200]
        extra: dict[str, Any] = {"file_name": name}
        if (doc.file_size or 0) <= MAX_DOWNLOAD:
            extra["file_id"] = doc.file_id
        else:
            extra["file_too_big"] = MAX_DOWNLOAD // (1024 * 1024)
        return Incoming(platform=PLATFORM, update_id=uid, chat=chat,
                        sender=_sender(msg.from_user), text=msg.caption or "",
                        message_id=str(msg.message_id), timestamp=msg.date, extra=extra)
    if msg.text is None:
        if chat.kind == "private":
            return Incoming(platform=PLATFORM, update_id=uid, chat=chat,
                            sender=_sender(msg.from_user), event="unsupported")
        return None
    text = msg.text
    if text.startswith("/"):
        head = text.split()[0]
        if "@" in head and head.split("@", 1)[1].lower() != (username or "").lower():
            return None  # a command for another bot in the group
    mention = bool(username) and f"@{username}".lower() in text.lower()
    reply_to_bot = bool(msg.reply_to_message and msg.reply_to_message.from_user
                        and msg.reply_to_message.from_user.id == bot_id)
    return Incoming(platform=PLATFORM, update_id=uid, chat=chat,
                    sender=_sender(msg.from_user), text=text,
                    message_id=str(msg.message_id), timestamp=msg.date,
                    mentions_bot=mention, reply_to_bot=reply_to_bot)


def _chat(chat: Any) -> Chat:
    kind = "private" if chat.type == "private" else "group"
    return Chat(str(chat.id), kind, getattr(chat, "title", None))


def _sender(user: Any) -> Sender:
    return Sender(str(user.id), user.full_name, user.language_code)
