"""Durable outgoing queue: handlers enqueue in their transaction, the sender delivers.

Delivery policy (DESIGN.md flow 2): claim (status ``sending`` + claim time), call the
API, mark ``sent``. A row left in ``sending`` by a crash is re-queued after the lease, so
every message goes out at least once and a duplicate is only possible for a send that
was in flight at the crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import Session

from bot.config import OutboxSettings
from bot.platforms.base import Attachment, Button, Messenger, Outgoing, SendError
from bot.ratelimit import PlatformPacer
from models.base import utcnow
from models.outbox import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def to_payload(out: Outgoing, is_group: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {"text": out.text, "group": is_group}
    if out.buttons:
        payload["buttons"] = [[[b.label, b.data] for b in row] for row in out.buttons]
    if out.reply_to:
        payload["reply_to"] = out.reply_to
    if out.answer_callback:
        payload["answer_callback"] = out.answer_callback
    if out.toast:
        payload["toast"] = True
    if out.attachment:
        payload["attachment"] = {"filename": out.attachment.filename,
                                 "kind": out.attachment.kind}
    return payload


def to_outgoing(row: OutboxMessage) -> Outgoing:
    p = row.payload
    att = None
    if "attachment" in p and row.attachment is not None:
        att = Attachment(p["attachment"]["filename"], row.attachment, p["attachment"]["kind"])
    return Outgoing(
        platform=row.platform,
        chat_id=row.chat_id,
        text=p.get("text", ""),
        buttons=tuple(tuple(Button(lbl, d) for lbl, d in r) for r in p.get("buttons", [])),
        attachment=att,
        key=row.idempotency_key,
        reply_to=p.get("reply_to"),
        answer_callback=p.get("answer_callback"),
        toast=bool(p.get("toast")),
    )


def enqueue(
    session: Session, out: Outgoing, *, now: datetime, is_group: bool = False,
    not_before: datetime | None = None,
) -> bool:
    """Queue ``out`` under its idempotency key; False if that key was already queued."""
    if not out.key:
        raise ValueError("an outgoing message needs an idempotency key")
    values = {
        "idempotency_key": out.key,
        "platform": out.platform,
        "chat_id": out.chat_id,
        "payload": to_payload(out, is_group),
        "attachment": out.attachment.data if out.attachment else None,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(OutboxMessage)
    stmt = (ins.values(**values).on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(OutboxMessage.id))
    return session.execute(stmt).first() is not None


def backoff(attempts: int) -> float:
    return float(min(2 ** max(attempts - 1, 0), 300))


class OutboxSender:
    def __init__(
        self,
        engine: Engine,
        messengers: Mapping[str, Messenger],
        settings: OutboxSettings | None = None,
        clock: Clock = utcnow,
        concurrency: int = 32,
    ) -> None:
        self.engine = engine
        self.messengers = dict(messengers)
        self.settings = settings or OutboxSettings()
        self.clock = clock
        self.concurrency = concurrency
        self.pacers = {p: PlatformPacer(m.capabilities) for p, m in self.messengers.items()}
        self.sent_count = 0

    # -- claiming ---------------------------------------------------------------
    def recover_stale(self) -> int:
        """Re-queue rows a crashed sender left in ``sending`` longer than the lease."""
        cutoff = self.clock() - timedelta(seconds=self.settings.lease_seconds)
        with Session(self.engine) as s:
            res = s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.SENDING.value,
                       OutboxMessage.claimed_at < cutoff)
                .values(status=OutboxStatus.PENDING.value)
            )
            s.commit()
        if res.rowcount:
            log.warning("re-queued %d outbox rows left in sending", res.rowcount)
        return res.rowcount

    def _heads(self, limit: int):  # type: ignore[no-untyped-def]
        """The oldest due row of each chat whose earlier rows are all delivered."""
        earlier = aliased(OutboxMessage)
        busy = (
            select(earlier.id)
            .where(earlier.platform == OutboxMessage.platform,
                   earlier.chat_id == OutboxMessage.chat_id,
                   earlier.id < OutboxMessage.id,
                   earlier.status.in_([OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]))
        )
        return (
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING.value,
                   OutboxMessage.next_attempt_at <= self.clock(),
                   OutboxMessage.platform.in_(list(self.messengers)),
                   ~exists(busy))
            .order_by(OutboxMessage.id)
            .limit(limit)
        )

    def claim(self, limit: int) -> list[OutboxMessage]:
        """Claim due chat heads whose chats the pacer lets through now."""
        now = self.clock()
        q = self._heads(limit * 4)
        with Session(self.engine, expire_on_commit=False) as s:
            if s.get_bind().dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True, of=OutboxMessage)
            rows = [r for r in s.scalars(q)
                    if self.pacers[r.platform].chat_ready(r.chat_id)][:limit]
            if not rows:
                s.rollback()
                return []
            res = s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([r.id for r in rows]),
                       OutboxMessage.status == OutboxStatus.PENDING.value)
                .values(status=OutboxStatus.SENDING.value, claimed_at=now)
            )
            s.commit()
            if res.rowcount != len(rows):  # another sender got some: keep only ours
                ids = {r.id for r in rows}
                mine = set(s.scalars(
                    select(OutboxMessage.id).where(OutboxMessage.id.in_(ids),
                                                   OutboxMessage.claimed_at == now)))
                rows = [r for r in rows if r.id in mine]
        return rows

    # -- sending ----------------------------------------------------------------
    async def _deliver(self, row: OutboxMessage) -> None:
        messenger = self.messengers[row.platform]
        pacer = self.pacers[row.platform]
        out = to_outgoing(row)
        await pacer.acquire(row.chat_id, bool(row.payload.get("group")))
        try:
            ref = await messenger.send(out)
        except SendError as exc:
            self._failed(row, exc, pacer)
            return
        except Exception as exc:  # an adapter bug or network oddity: retry, log loudly
            log.exception("outbox %s: unexpected send error", row.id)
            self._failed(row, SendError(repr(exc), transient=True), pacer)
            return
        with Session(self.engine) as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
                status=OutboxStatus.SENT.value, sent_at=self.clock(),
                platform_message_id=ref.message_id, attempts=row.attempts + 1))
            s.commit()
        self.sent_count += 1

    def _failed(self, row: OutboxMessage, exc: SendError, pacer: PlatformPacer) -> None:
        attempts = row.attempts + 1
        # Flood control (429 with retry_after) means "wait", not "broken": it never makes a
        # message fail for good, however often it comes.
        permanent = not exc.transient or (
            exc.retry_after is None and attempts >= self.settings.max_attempts)
        delay = exc.retry_after if exc.retry_after is not None else backoff(attempts)
        if exc.retry_after:
            pacer.delay_chat(row.chat_id, exc.retry_after)
        values: dict[str, Any] = {"attempts": attempts, "last_error": str(exc)[:500]}
        if permanent:
            values["status"] = OutboxStatus.FAILED.value
            log.error("outbox %s to %s:%s failed for good: %s", row.id, row.platform,
                      row.chat_id, exc)
        else:
            values["status"] = OutboxStatus.PENDING.value
            values["next_attempt_at"] = self.clock() + timedelta(seconds=delay)
            log.warning("outbox %s: attempt %d failed (%s); retry in %.1fs", row.id,
                        attempts, exc, delay)
        with Session(self.engine) as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(**values))
            s.commit()

    async def send_batch(self) -> int:
        rows = self.claim(self.concurrency)
        if rows:
            await asyncio.gather(*(self._deliver(r) for r in rows))
        return len(rows)

    async def drain(self, max_batches: int | None = None) -> int:
        """Send until nothing is due now (or ``max_batches``); returns rows handled."""
        total = 0
        batches = 0
        while max_batches is None or batches < max_batches:
            n = await self.send_batch()
            if n == 0:
                wait = self._paced_wait()
                if wait is None:
                    break
                await asyncio.sleep(max(wait, 0.001))
                continue
            total += n
            batches += 1
        return total

    def _paced_wait(self) -> float | None:
        """Seconds until a due chat head is let through by its pacer; None if none is due."""
        with Session(self.engine) as s:
            heads = list(s.scalars(self._heads(200)))
        if not heads:
            return None
        return min(self.pacers[r.platform].wait_for(r.chat_id) for r in heads)

    async def run(self, stop: asyncio.Event) -> None:
        self.recover_stale()
        idle = self.settings.poll_seconds
        while not stop.is_set():
            try:
                n = await self.send_batch()
            except Exception:
                log.exception("outbox sweep failed")
                n = 0
            if n == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=idle)
