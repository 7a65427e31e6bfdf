"""Sending a generated document: the .docx where the platform takes files, else its text.

Zalo's Bot API sends no documents (ZALO.md): there the recipient gets the text version,
split by the adapter to the platform's 2,000 characters, with the file named at the end.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from handlers.core.notify import group_targets, private_target
from models.member import Member
from models.messages import Attachment, Keyboard, Outgoing
from models.outbox_queue import enqueue

TEXT_ONLY_PLATFORMS = frozenset({"zalo"})  # no sendDocument in the Zalo Bot API


def _out(platform: str, chat_id: str, caption: str, text: str, att: Attachment, key: str,
         buttons: Keyboard) -> Outgoing:
    body = caption + "\n\n" + text if platform in TEXT_ONLY_PLATFORMS else caption
    return Outgoing(platform=platform, chat_id=chat_id, text=body, attachment=att, key=key,
                    buttons=buttons)


def to_chat(s: Session, platform: str, chat_id: str, *, filename: str, data: bytes,
            caption: str, text: str, key: str, now: datetime, is_group: bool = False,
            buttons: Keyboard = ()) -> bool:
    att = Attachment(filename, data, "document")
    return enqueue(s, _out(platform, chat_id, caption, text, att, key, buttons), now=now,
                   is_group=is_group)


def to_member(s: Session, member: Member, *, filename: str, data: bytes, caption: str,
              text: str, key: str, now: datetime, buttons: Keyboard = ()) -> bool:
    """False when the member never opened a private chat with the bot."""
    target = private_target(s, member)
    if target is None:
        return False
    to_chat(s, target[0], target[1], filename=filename, data=data, caption=caption,
            text=text, key=key, now=now, buttons=buttons)
    return True


def to_groups(s: Session, org_id: int, *, filename: str, data: bytes, caption: str,
              text: str, key: str, now: datetime) -> int:
    n = 0
    for b in group_targets(s, org_id):
        to_chat(s, b.platform, b.chat_id, filename=filename, data=data, caption=caption,
                text=text, key=f"{key}:{b.platform}:{b.chat_id}", now=now, is_group=True)
        n += 1
    return n
