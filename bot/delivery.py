"""What a failed send means, acted on (the outbox's retry rule covers only "try again").

Adapters classify each failure into a neutral ``Failure`` (bot/platforms/base.py); the
outbox hands the ones below to ``settle`` and keeps its own rule for the rest:

- MIGRATED: the group became a supergroup. The binding follows the new chat id (the old
  id stays accepted for ``models.org.ALIAS_DAYS``), every queued row of the old chat moves
  to the new one, and this row is resent at once.
- BLOCKED: the member blocked the bot (or the bot was thrown out of the group). The
  identity is marked unreachable (reminders then name the member in the group), the
  chat's other queued rows fail at once instead of one by one, and hooks tell the
  secretary once. A later private message from the member (``/start``) clears the mark.
- EXPIRED: a button answer came after Telegram's window. It is dropped, never turned
  into a chat message.
- QUOTA: the platform's quota is spent (Zalo 429). Exponential backoff up to
  ``QUOTA_CEILING``, never failing for good; when a message has waited ``DELAY_NOTICE``
  hooks tell the secretary (once a day per cell).

Story modules register hooks with ``models.outcomes.on_failure`` (the outbox
never imports handlers).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import Engine, update
from sqlmodel import Session, select

from models.member import Identity
from models.messages import Failure, SendError
from models.org import ChatBinding, move_chat
from models.outbox import OutboxMessage, OutboxStatus
from models.outcomes import HOOKS, Settled

log = logging.getLogger(__name__)

QUOTA_BASE = 5.0  # seconds; doubled on each quota answer
QUOTA_CEILING = 900.0  # never wait longer than this between two tries
DELAY_NOTICE = timedelta(minutes=30)  # tell the secretary when a message waited this long

HANDLED = (Failure.MIGRATED, Failure.BLOCKED, Failure.EXPIRED, Failure.QUOTA)


def quota_delay(attempts: int) -> float:
    return min(QUOTA_BASE * 2 ** max(attempts - 1, 0), QUOTA_CEILING)


def settle(engine: Engine, row: OutboxMessage, exc: SendError, now: datetime) -> bool:
    """Act on a failure the outbox does not handle itself; False leaves the row to the
    outbox's own rule (retry with backoff, or fail after too many attempts)."""
    kind = exc.failure
    if kind not in HANDLED or (kind is Failure.MIGRATED and not exc.new_chat_id):
        return False
    with Session(engine) as s:
        settled = Settled(row.platform, row.chat_id, kind, str(exc)[:300], row.created_at)
        if kind is Failure.MIGRATED:
            move_chat(s, row.platform, row.chat_id, str(exc.new_chat_id), now)
            s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
                status=OutboxStatus.PENDING.value, next_attempt_at=now,
                chat_id=str(exc.new_chat_id), last_error=str(exc)[:500]))
        elif kind is Failure.BLOCKED:
            settled = _blocked(s, row, exc, now, settled)
        elif kind is Failure.EXPIRED:
            log.info("outbox %s: answer to a button press dropped (%s)", row.id, exc)
            _finish(s, row, exc)
        else:  # QUOTA
            wait = quota_delay(row.attempts + 1)
            s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
                status=OutboxStatus.PENDING.value, attempts=row.attempts + 1,
                next_attempt_at=now + timedelta(seconds=wait), last_error=str(exc)[:500]))
            log.warning("outbox %s to %s:%s: quota exceeded; retry in %.0fs", row.id,
                        row.platform, row.chat_id, wait)
            if now - _aware(row.created_at, now) < DELAY_NOTICE:
                s.commit()
                return True
        for hook in HOOKS[kind]:
            hook(s, settled, now)
        s.commit()
    return True


def _blocked(s: Session, row: OutboxMessage, exc: SendError, now: datetime,
             settled: Settled) -> Settled:
    _finish(s, row, exc)
    ident = s.exec(select(Identity).where(Identity.platform == row.platform,
                                          Identity.private_chat_id == row.chat_id)).first()
    if ident is not None:
        newly = ident.blocked_at is None
        if newly:
            ident.blocked_at = now
            s.add(ident)
            log.warning("%s:%s blocked the bot: member %s marked unreachable there",
                        row.platform, row.chat_id, ident.member_id)
        settled = replace(settled, member_id=ident.member_id, newly_blocked=newly)
    binding = s.exec(select(ChatBinding).where(ChatBinding.platform == row.platform,
                                               ChatBinding.chat_id == row.chat_id,
                                               ChatBinding.active == True)).first()  # noqa: E712
    if binding is not None:
        binding.active = False
        s.add(binding)
        log.warning("the bot can no longer post in %s:%s (%s); binding inactive",
                    row.platform, row.chat_id, exc)
        settled = replace(settled, newly_blocked=True)  # a group: member_id stays None
    # The chat's other queued rows would each fail the same way: fail them now.
    s.execute(update(OutboxMessage).where(
        OutboxMessage.platform == row.platform, OutboxMessage.chat_id == row.chat_id,
        OutboxMessage.status == OutboxStatus.PENDING.value).values(
        status=OutboxStatus.FAILED.value, last_error=f"unreachable: {exc}"[:500]))
    return settled


def _finish(s: Session, row: OutboxMessage, exc: SendError) -> None:
    s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
        status=OutboxStatus.FAILED.value, attempts=row.attempts + 1,
        last_error=f"{exc.failure.value}: {exc}"[:500]))


def _aware(when: datetime, like: datetime) -> datetime:
    """SQLite gives naive datetimes back; compare them as UTC."""
    if when.tzinfo is None and like.tzinfo is not None:
        return when.replace(tzinfo=like.tzinfo)
    return when
