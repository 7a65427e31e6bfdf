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
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Engine, bindparam, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import Session

from bot import delivery
from bot.config import OutboxSettings
from bot.platforms.base import (
    Attachment,
    Button,
    JoinDecision,
    Messenger,
    Outgoing,
    SendError,
)
from bot.ratelimit import PlatformPacer
from models.base import utcnow
from models.files import StoredFile
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
    if out.join:
        payload["join"] = [out.join.user_id, out.join.approve]
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
        buttons=tuple(tuple(Button(lbl, d) for lbl, d in r) for r in p.get("buttons", [])),
        attachment=att,
        key=row.idempotency_key,
        reply_to=p.get("reply_to"),
        answer_callback=p.get("answer_callback"),
        toast=bool(p.get("toast")),
        join=JoinDecision(str(p["join"][0]), bool(p["join"][1])) if "join" in p else None,
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
        "attachment": out.attachment.data
        if out.attachment and out.attachment.file_id is None else None,
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


@cache
def _heads_stmt():  # type: ignore[no-untyped-def]
    """Built once, with bind parameters: building it cost more than running it."""
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
               OutboxMessage.next_attempt_at <= bindparam("now"),
               OutboxMessage.platform.in_(bindparam("platforms", expanding=True)),
               ~exists(busy))
        .order_by(OutboxMessage.id)
        .limit(bindparam("limit"))
    )


@cache
def _heads_locking_stmt():  # type: ignore[no-untyped-def]
    """PostgreSQL: several senders share the queue; each skips rows another has locked."""
    return _heads_stmt().with_for_update(skip_locked=True, of=OutboxMessage)


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
        return _heads_stmt(), {"now": self.clock(), "platforms": list(self.messengers),
                               "limit": limit}

    def claim(self, limit: int) -> list[OutboxMessage]:
        """Claim due chat heads whose chats the pacer lets through now."""
        now = self.clock()
        q, params = self._heads(limit * 4)
        with Session(self.engine, expire_on_commit=False) as s:
            if s.get_bind().dialect.name == "postgresql":
                q = _heads_locking_stmt()
            rows = [r for r in s.scalars(q, params)
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
        try:
            out = to_outgoing(row, self._stored_file)
        except LookupError as exc:
            self._failed(row, SendError(str(exc), transient=False), pacer)
            return
        if not out.answer_only:  # a button answer goes at once (Telegram's window is short)
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

    def _stored_file(self, file_id: int) -> bytes | None:
        with Session(self.engine) as s:
            f = s.get(StoredFile, file_id)
            return f.data if f is not None else None

    def _failed(self, row: OutboxMessage, exc: SendError, pacer: PlatformPacer) -> None:
        if delivery.settle(self.engine, row, exc, self.clock()):
            return  # migrated, blocked, expired, quota: bot/delivery.py
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

    async def pump(self, stop: asyncio.Event | None = None) -> int:
        """Keep up to ``concurrency`` sends in flight, claiming more as each one ends, so
        the pacer, not a batch boundary, sets the pace. Returns when nothing is due (or
        when ``stop`` is set) with the number of rows handled."""
        in_flight: set[asyncio.Task[None]] = set()
        total = 0
        try:
            while stop is None or not stop.is_set():
                # Refill in chunks: one claim query per half of the window, not per send.
                if len(in_flight) <= self.concurrency // 2:
                    for row in self.claim(self.concurrency - len(in_flight)):
                        in_flight.add(asyncio.create_task(self._deliver(row)))
                if not in_flight:
                    wait = self._paced_wait()
                    if wait is None:
                        break
                    # Capped: a button answer queued meanwhile must not wait for a group.
                    await asyncio.sleep(min(max(wait, 0.001), self.settings.poll_seconds))
                    continue
                done, in_flight = await asyncio.wait(in_flight,
                                                     return_when=asyncio.FIRST_COMPLETED)
                total += len(done)
        finally:
            if in_flight:  # claimed sends are finished, not abandoned in "sending"
                await asyncio.gather(*in_flight, return_exceptions=True)
                total += len(in_flight)
        return total

    async def drain(self) -> int:
        """Send until nothing is due now; returns rows handled."""
        return await self.pump()

    def _paced_wait(self) -> float | None:
        """Seconds until a due chat head is let through by its pacer; None if none is due."""
        q, params = self._heads(200)
        with Session(self.engine) as s:
            heads = list(s.scalars(q, params))
        if not heads:
            return None
        return min(self.pacers[r.platform].wait_for(r.chat_id) for r in heads)

    async def run(self, stop: asyncio.Event) -> None:
        idle = self.settings.poll_seconds
        last_recovery = -float("inf")
        while not stop.is_set():
            if time.monotonic() - last_recovery > self.settings.lease_seconds:
                self.recover_stale()  # also rows of another sender that crashed
                last_recovery = time.monotonic()
            try:
                n = await self.pump(stop)
            except Exception:
                log.exception("outbox sweep failed")
                n = 0
            if n == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=idle)
