"""Durable outgoing queue: handlers enqueue in their transaction; the sender
(``bot/sender.py``) delivers. Committing an enqueue wakes the sender in this process, and
NOTIFY wakes it in others (PostgreSQL): sent after the commit by a running sender's
notifier, or inside the transaction where none runs.
"""


from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session as SASession
from sqlmodel import Session, select

from models.db import insert_once
from models.messages import (
    Attachment,
    Button,
    JoinDecision,
    MenuCommand,
    Outgoing,
)
from models.outbox import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

CHANNEL = "chibot_outbox"  # the LISTEN/NOTIFY channel that wakes senders in other processes



def to_payload(out: Outgoing, is_group: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {"text": out.text, "group": is_group}
    if out.buttons:
        payload["buttons"] = [[[b.label, b.data] if b.is_choice else [b.label, b.data, b.kind]
                               for b in row] for row in out.buttons]
    if out.reply_to:
        payload["reply_to"] = out.reply_to
    if out.answer_callback:
        payload["answer_callback"] = out.answer_callback
    if out.toast:
        payload["toast"] = True
    if out.join:
        payload["join"] = [out.join.user_id, out.join.approve]
    if out.menu is not None:
        payload["menu"] = [[c.name, c.summary] for c in out.menu]
    if out.edit:
        payload["edit"] = out.edit
    if out.edit_of:
        payload["edit_of"] = out.edit_of
    if out.menu_button:
        payload["menu_button"] = out.menu_button
    if out.attachment:
        payload["attachment"] = {"filename": out.attachment.filename,
                                 "kind": out.attachment.kind}
        if out.attachment.file_id is not None:
            payload["attachment"]["file_id"] = out.attachment.file_id
    return payload


def to_outgoing(row: OutboxMessage,
                load_file: Callable[[int], bytes | None] | None = None) -> Outgoing:
    """The row as an Outgoing; a stored file is read with ``load_file`` (LookupError
    when it is gone, e.g. the agenda it belonged to was cancelled)."""
    p = row.payload
    att = None
    if "attachment" in p and row.attachment is not None:
        att = Attachment(p["attachment"]["filename"], row.attachment, p["attachment"]["kind"])
    elif "attachment" in p and p["attachment"].get("file_id") is not None:
        file_id = int(p["attachment"]["file_id"])
        data = load_file(file_id) if load_file is not None else None
        if data is None:
            raise LookupError(f"stored file {file_id} no longer exists")
        att = Attachment(p["attachment"]["filename"], data, p["attachment"]["kind"], file_id)
    return Outgoing(
        platform=row.platform,
        chat_id=row.chat_id,
        text=p.get("text", ""),
        buttons=tuple(tuple(Button(*b) for b in r) for r in p.get("buttons", [])),
        attachment=att,
        key=row.idempotency_key,
        reply_to=p.get("reply_to"),
        answer_callback=p.get("answer_callback"),
        toast=bool(p.get("toast")),
        join=JoinDecision(str(p["join"][0]), bool(p["join"][1])) if "join" in p else None,
        menu=tuple(MenuCommand(n, d, True, False) for n, d in p["menu"]) if "menu" in p
        else None,
        edit=p.get("edit"),
        edit_of=p.get("edit_of"),
        menu_button=p.get("menu_button"),
    )


def enqueue(
    session: Session, out: Outgoing, *, now: datetime, is_group: bool = False,
    not_before: datetime | None = None,
) -> bool:
    """Queue ``out`` under its idempotency key; False if that key was already queued.
    The sender is woken when the transaction commits (see :func:`_wake_after_commit`)."""
    if not out.key:
        raise ValueError("an outgoing message needs an idempotency key")
    values = {
        "idempotency_key": out.key,
        "platform": out.platform,
        "chat_id": out.chat_id,
        "payload": to_payload(out, is_group),
        "attachment": out.attachment.data
        if out.attachment and out.attachment.file_id is None else None,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    queued = session.connection().execute(_enqueue_stmt(dialect), values).first() is not None
    if queued:
        session.info.setdefault(_ENQUEUED, set()).add((out.platform, out.chat_id))
        # Without a running sender here to wake the others after commit (a CLI command),
        # NOTIFY in the transaction. It is delivered at commit, but PostgreSQL serialises
        # the commits (and their WAL flushes) of every transaction that notifies.
        if (dialect == "postgresql" and not _relayed_wakes
                and not session.info.get(_NOTIFIED)):
            session.execute(_notify_stmt())
            session.info[_NOTIFIED] = True
    return queued


def queued_status(session: Session, key: str) -> str | None:
    """The status of the row queued under ``key``; None when none was."""
    return session.exec(select(OutboxMessage.status).where(
        OutboxMessage.idempotency_key == key)).first()


@cache
def _enqueue_stmt(dialect: str):  # type: ignore[no-untyped-def]
    """Built once per dialect; the values come as bind parameters."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    return insert_once(table, ["idempotency_key"], table.c.id, dialect)


_ENQUEUED = "chibot_outbox_enqueued"
_NOTIFIED = "chibot_outbox_notified"


@cache
def _notify_stmt():  # type: ignore[no-untyped-def]
    return text(f"NOTIFY {CHANNEL}")


# In-process wake-up: a sender registers a callback; a commit that queued rows calls it
# with their (platform, chat) pairs (from whatever thread committed). A listener registered with
# ``relays=True`` also wakes senders in other processes itself (bot/pglisten.py), so that
# enqueues need not NOTIFY inside their transactions.
WakeListener = Callable[[frozenset[tuple[str, str]]], None]
_wake_listeners: list[WakeListener] = []
_relayed_wakes: list[WakeListener] = []


def add_wake_listener(fn: WakeListener, relays: bool = False) -> None:
    _wake_listeners.append(fn)
    if relays:
        _relayed_wakes.append(fn)


def remove_wake_listener(fn: WakeListener) -> None:
    for listeners in (_wake_listeners, _relayed_wakes):
        with contextlib.suppress(ValueError):
            listeners.remove(fn)


@event.listens_for(SASession, "after_commit")
def _wake_after_commit(session: SASession) -> None:
    chats = session.info.pop(_ENQUEUED, None)
    if chats:
        for fn in list(_wake_listeners):
            fn(frozenset(chats))
    session.info.pop(_NOTIFIED, None)


@event.listens_for(SASession, "after_rollback")
def _forget_after_rollback(session: SASession) -> None:
    session.info.pop(_ENQUEUED, None)
    session.info.pop(_NOTIFIED, None)
