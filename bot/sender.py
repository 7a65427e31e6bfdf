"""The outbox sender: claims due rows, paces and sends them, records the outcome.

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
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from bot import delivery
from bot import sender_sql as sql
from bot.leader import TRY_EVERY_S, SenderLease, inherit, lease_for
from bot.pglisten import Wakeups
from bot.ratelimit import PlatformPacer
from models.base import utcnow
from models.dberrors import DbHealth, is_transient
from models.dberrors import backoff as dbbackoff
from models.messages import Messenger, SendError, wait_either
from models.outbox import OutboxMessage, OutboxStatus
from models.outbox_queue import to_outgoing
from models.settings import OutboxSettings

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


FETCH_HEADS = 256  # heads read per query; claims take from them
REFETCH_S = 0.1  # the heads are read again at most this often while sends are in flight
MAX_HEADS_AGE_S = 1.0  # and at least this often, for chats whose next row became a head


def backoff(attempts: int) -> float:
    return float(min(2 ** max(attempts - 1, 0), 300))


class OutboxSender:
    """Delivers the outbox. Database work runs in worker threads (the event loop only
    awaits); results are written in batches; any database error is survived: transient
    ones are retried with backoff, logged once per outage (``DbHealth``)."""

    def __init__(
        self,
        engine: Engine,
        messengers: Mapping[str, Messenger],
        settings: OutboxSettings | None = None,
        clock: Clock = utcnow,
        concurrency: int = 32,
        health: DbHealth | None = None,
    ) -> None:
        self.engine = engine
        self.messengers = dict(messengers)
        self.settings = settings or OutboxSettings()
        self.clock = clock
        self.concurrency = concurrency
        self.health = health or DbHealth()
        self.pacers = {p: PlatformPacer(m.capabilities) for p, m in self.messengers.items()}
        self.sent_count = 0
        # Outcomes of finished sends not yet written: (row id, sent?, parameters).
        self._results: list[tuple[bool, dict[str, Any]]] = []
        self._paced_wait_s: float | None = None
        self.idle = False  # waiting for a wake-up or the fallback poll (tests, metrics)
        self._wake: asyncio.Event | None = None  # set by an enqueue while run() runs
        # Heads read from the queue and not yet claimed, oldest first (see _claim).
        self._candidates: list[OutboxMessage] = []
        self._fetched_at = -float("inf")
        self._stale = False
        self._complete = False  # the last read returned every head there was
        # Chats with a row in flight; chats that got a row behind an undelivered one (_woken).
        self._in_flight: set[tuple[str, str]] = set()
        self._behind: set[tuple[str, str]] = set()
        self._sent_since_read = False  # a send ended since the heads were last read
        # On PostgreSQL, the platforms this process sends for (bot/leader.py); set by run().
        self.lease: SenderLease | None = None
        # Platform ids of rows this sender sent, by key, for edits queued right after them
        # (before the outcome is flushed); bounded, the database answers for older ones.
        self._refs: OrderedDict[str, str] = OrderedDict()

    async def drop_messenger(self, platform: str) -> None:
        """Stop sending for a platform whose adapter is gone: its rows stay pending in
        the outbox (sent after a restart, or by another process) instead of failing
        against a refused token."""
        self.messengers.pop(platform, None)
        self._candidates = [r for r in self._candidates if r.platform != platform]
        if self.lease is not None:  # another process with a working token may send
            await asyncio.to_thread(self.lease.release, platform)

    def _platforms(self) -> list[str]:
        """The platforms this process sends for now."""
        if self.lease is None:
            return list(self.messengers)
        return [p for p in self.messengers if p in self.lease.held]

    def _keep_lease(self) -> None:
        """Check the lease and try for what is not held (blocking); a platform taken over
        first gets what its previous sender left behind."""
        assert self.lease is not None
        lost, gained = self.lease.maintain(set(self.messengers))
        if lost:
            self._candidates = []
        if gained:
            self._took_over(gained)
            self._fetched_at = -float("inf")  # read the heads again, with these platforms

    def _took_over(self, platforms: set[str]) -> None:
        """This process now sends for ``platforms``: take over what the previous sender
        left (bot/leader.py), and keep its pacing of the chats it just sent to."""
        horizon = max(60.0 / self.pacers[p].group_per_minute for p in platforms)
        requeued, recent = inherit(self.engine, platforms, self.clock(), horizon)
        for platform, chat_id, age in recent:
            pacer = self.pacers[platform]
            pacer.delay_chat(chat_id, 60.0 / pacer.group_per_minute - age)
        # Loud only for a real takeover (a sender died mid-work); a start, or the lease
        # taken again after a database outage (reported once by DbHealth), is routine.
        log.log(logging.WARNING if requeued else logging.INFO,
                "outbox: this process now sends for %s (%d rows re-queued from the "
                "previous sender, %d chats paced on)", ", ".join(sorted(platforms)),
                requeued, len(recent))

    # -- claiming ---------------------------------------------------------------
    def recover_stale(self) -> int:
        """Re-queue rows a crashed sender left in ``sending`` longer than the lease."""
        n = sql.requeue_sending(self.engine, self.clock() - timedelta(
            seconds=self.settings.lease_seconds))
        if n:
            log.warning("re-queued %d outbox rows left in sending", n)
        return n

    def fetch_heads(self, limit: int) -> list[OutboxMessage]:
        """The oldest due row of each chat whose earlier rows are all delivered, oldest
        first (blocking)."""
        platforms = self._platforms()
        if not platforms:
            return []
        return sql.heads(self.engine, self.clock(), platforms, limit)

    def claim_ids(self, ids: list[int]) -> set[int]:
        """Mark these rows ``sending``; RETURNING names exactly the rows this sender got
        when another one races for them (blocking)."""
        return sql.claim(self.engine, ids, self.clock())

    def _take_ready(self, limit: int) -> list[OutboxMessage]:
        """Up to ``limit`` candidates whose chats the pacer lets through now, taken out of
        the candidates; remembers how long until a held-back one is let through."""
        rows: list[OutboxMessage] = []
        held: list[OutboxMessage] = []
        for r in self._candidates:
            if len(rows) < limit and self.pacers[r.platform].chat_ready(r.chat_id):
                rows.append(r)
            else:
                held.append(r)
        self._candidates = held
        self._paced_wait_s = min(
            (self.pacers[r.platform].wait_for(r.chat_id) for r in held), default=None)
        return rows

    def claim(self, limit: int, refetch: bool = True) -> list[OutboxMessage]:
        """Write the outcomes so far, read the heads again if asked, and claim those the
        pacer lets through now (blocking: one trip to a worker thread does all three)."""
        self.flush()
        if self.lease is not None:
            self._keep_lease()
            refetch = refetch or self._fetched_at == -float("inf")
        if refetch:
            want = max(limit * 4, FETCH_HEADS)
            self._candidates = self.fetch_heads(want)
            self._fetched_at = time.monotonic()
            self._stale = False
            self._complete = len(self._candidates) < want
        rows = self._take_ready(limit)
        if not rows:
            return []
        mine = self.claim_ids([r.id for r in rows])
        return [r for r in rows if r.id in mine]

    async def _claim(self, limit: int, idle: bool) -> list[OutboxMessage]:
        """Claim from the heads read earlier; read them again only when they cannot fill
        the window (at most every ``REFETCH_S``), when an enqueue or a settled failure made
        them stale, or when nothing is in flight. One heads query serves many claims: it
        was a fifth of the sender's CPU when it ran per claim."""
        age = time.monotonic() - self._fetched_at
        # When the last read held every chat's head, reading again soon finds only the
        # next rows of chats just sent to, which their chat's pacing holds back anyway:
        # wait for the age limit. (With a backlog of 10,000 replies to 200 chats, reading
        # every 0.1 s was most of the sender's CPU.)
        short = not self._complete and sum(
            1 for r in self._candidates[:limit * 2]
            if self.pacers[r.platform].chat_ready(r.chat_id)) < limit
        refetch = idle or age >= MAX_HEADS_AGE_S or (
            (self._stale or short) and age >= REFETCH_S)
        if refetch:
            self._sent_since_read = False  # before the read: a send ending during it counts
        return await asyncio.to_thread(self.claim, limit, refetch)

    def _woken(self, chats: frozenset[tuple[str, str]] | None) -> None:
        """Rows were queued for ``chats`` (None: unknown). One behind an undelivered row
        of its chat (a head read, or in flight) cannot go yet: read the heads again when
        that one is out, not now (reading at each enqueue was costly under a backlog)."""
        busy = None if chats is None else (
            self._in_flight | {(r.platform, r.chat_id) for r in self._candidates})
        if busy is None or not chats <= busy:
            self._stale = True  # the heads read before this enqueue miss its row
        else:
            self._behind |= chats

    # -- sending ----------------------------------------------------------------
    async def _send_one(self, row: OutboxMessage) -> None:
        chat = (row.platform, row.chat_id)
        try:
            await self._deliver(row)
        finally:
            self._in_flight.discard(chat)
            self._sent_since_read = True
            if chat in self._behind:
                self._behind.discard(chat)
                self._stale = True

    async def _deliver(self, row: OutboxMessage) -> None:
        messenger = self.messengers.get(row.platform)
        pacer = self.pacers[row.platform]
        if messenger is None:  # claimed just before its platform was dropped: put it back
            self._results.append((False, {
                "b_id": row.id, "b_status": OutboxStatus.PENDING.value,
                "b_attempts": row.attempts, "b_error": "platform not served",
                "b_next": row.next_attempt_at}))
            return
        try:
            data = None
            file_id = (row.payload.get("attachment") or {}).get("file_id")
            if file_id is not None:  # read in a worker thread, off the event loop
                data = await asyncio.to_thread(sql.stored_file, self.engine, int(file_id))
            out = to_outgoing(row, lambda _id: data)
        except LookupError as exc:
            await self._fail(row, SendError(str(exc), transient=False), pacer)
            return
        if out.edit_of and out.edit is None:
            ref = self._refs.get(out.edit_of)
            if ref is None:
                state, ref = await asyncio.to_thread(sql.sent_ref, self.engine, out.edit_of)
                if state in (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value):
                    await self._fail(row, SendError("the message to edit is not sent yet",
                                                    transient=True), pacer)
                    return
            # Never sent (failed, or no such row): the new text goes out as a message.
            out = replace(out, edit=ref) if ref else replace(out, edit_of=None)
        if not out.answer_only:  # a button answer goes at once (Telegram's window is short)
            await pacer.acquire(row.chat_id, bool(row.payload.get("group")),
                                chat_paced=not out.chat_action)
        try:
            ref = await messenger.send(out)
        except SendError as exc:
            await self._fail(row, exc, pacer)
            return
        except Exception as exc:  # an adapter bug or network oddity: retry, log loudly
            log.exception("outbox %s: unexpected send error", row.id)
            await self._fail(row, SendError(repr(exc), transient=True), pacer)
            return
        self._refs[row.idempotency_key] = ref.message_id
        if len(self._refs) > 2000:
            self._refs.popitem(last=False)
        self._results.append((True, {"b_id": row.id, "b_sent_at": self.clock(),
                                     "b_ref": ref.message_id, "b_attempts": row.attempts + 1}))
        self.sent_count += 1

    async def _fail(self, row: OutboxMessage, exc: SendError, pacer: PlatformPacer) -> None:
        """Migrated, blocked, expired, quota: ``bot/delivery.py`` settles them (in a worker
        thread); any other failure, or the database unavailable, by the rule below."""
        try:
            settled = await asyncio.to_thread(delivery.settle, self.engine, row, exc,
                                              self.clock())
            self._stale = True  # a settle may re-point or push back queued rows
            if settled:
                return
        except Exception as db_exc:
            if not is_transient(db_exc):
                raise
            self.health.failed("outbox", db_exc)
        self._failed(row, exc, pacer)

    def _failed(self, row: OutboxMessage, exc: SendError, pacer: PlatformPacer) -> None:
        attempts = row.attempts + 1
        # Flood control (429 with retry_after) means "wait", not "broken": it never makes a
        # message fail for good, however often it comes.
        permanent = not exc.transient or (
            exc.retry_after is None and attempts >= self.settings.max_attempts)
        delay = exc.retry_after if exc.retry_after is not None else backoff(attempts)
        if exc.retry_after:
            pacer.delay_chat(row.chat_id, exc.retry_after)
        if permanent:
            status = OutboxStatus.FAILED.value
            log.error("outbox %s to %s:%s failed for good: %s", row.id, row.platform,
                      row.chat_id, exc)
        else:
            status = OutboxStatus.PENDING.value
            log.warning("outbox %s: attempt %d failed (%s); retry in %.1fs", row.id,
                        attempts, exc, delay)
        self._results.append((False, {
            "b_id": row.id, "b_status": status, "b_attempts": attempts,
            "b_error": str(exc)[:500],
            "b_next": row.next_attempt_at if permanent
            else self.clock() + timedelta(seconds=delay)}))

    def flush(self) -> int:
        """Write the outcomes of finished sends in one transaction (blocking). On a
        database error they stay buffered and the next flush writes them."""
        if not self._results:
            return 0
        batch = list(self._results)
        sent = [p for ok, p in batch if ok]
        failed = [p for ok, p in batch if not ok]
        sql.write_outcomes(self.engine, sent, failed)
        del self._results[:len(batch)]
        return len(batch)

    async def _flush(self) -> None:
        if self._results:
            await asyncio.to_thread(self.flush)

    async def pump(self, stop: asyncio.Event | None = None) -> int:
        """Keep up to ``concurrency`` sends in flight, claiming more as each one ends, so
        the pacer, not a batch boundary, sets the pace. Returns when nothing is due (or
        when ``stop`` is set) with the number of rows handled. Raises on a database error
        once the sends in flight have finished (their outcomes stay buffered)."""
        in_flight: set[asyncio.Task[None]] = set()
        total = 0
        first = True
        try:
            while stop is None or not stop.is_set():
                # Refill in chunks: one claim query per half of the window, not per send;
                # the outcomes so far are written in the same trip to the worker thread.
                # With nothing in flight, read the heads again at once if something may
                # have changed them (not for a wake-up about rows behind others).
                if len(in_flight) <= self.concurrency // 2:
                    idle = not in_flight and (first or self._stale or self._sent_since_read)
                    rows = await self._claim(self.concurrency - len(in_flight), idle)
                    first = False
                    for row in rows:
                        self._in_flight.add((row.platform, row.chat_id))
                        in_flight.add(asyncio.create_task(self._send_one(row)))
                if not in_flight:
                    wait = self._paced_wait_s
                    if wait is None:
                        break
                    # A button answer queued meanwhile must not wait for a group: an
                    # enqueue wakes this sleep too.
                    await self._sleep_or_wake(max(wait, 0.001))
                    continue
                done, in_flight = await asyncio.wait(in_flight,
                                                     return_when=asyncio.FIRST_COMPLETED)
                total += len(done)
        finally:
            if in_flight:  # claimed sends are finished, not abandoned in "sending"
                await asyncio.gather(*in_flight, return_exceptions=True)
                total += len(in_flight)
        await self._flush()
        return total

    async def _sleep_or_wake(self, seconds: float) -> None:
        if self._wake is None:  # drain() outside run(): nothing can wake it
            await asyncio.sleep(min(seconds, 0.5))
            return
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def drain(self) -> int:
        """Send until nothing is due now; returns rows handled."""
        return await self.pump()

    def next_due_in(self) -> float | None:
        """Seconds until the earliest pending row is due (blocking); None if none."""
        when = sql.next_due(self.engine, self._platforms())
        return None if when is None else (when - self.clock()).total_seconds()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop``: woken on enqueue (in this process, or by PostgreSQL's
        NOTIFY from another), otherwise polling every ``poll_seconds`` as a fallback.
        Never raises on a database error."""
        loop = asyncio.get_running_loop()
        wake = self._wake = asyncio.Event()

        def woken(chats: frozenset[tuple[str, str]] | None) -> None:
            self._woken(chats)
            wake.set()

        def poke(chats: frozenset[tuple[str, str]] | None) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closing
                loop.call_soon_threadsafe(woken, chats)

        if self.lease is None:
            self.lease = lease_for(self.engine)
        wakeups = Wakeups(self.engine, poke,
                          lambda: self.lease.held if self.lease is not None else None)
        last_recovery = -float("inf")
        outage = 0
        try:
            while not stop.is_set():
                wake.clear()
                try:
                    await self._flush()
                    if time.monotonic() - last_recovery > self.settings.lease_seconds:
                        await asyncio.to_thread(self.recover_stale)  # also a dead sender's
                        last_recovery = time.monotonic()
                    n = await self.pump(stop)
                    idle = None if n else await asyncio.to_thread(self.next_due_in)
                    if n:  # rows were claimed and written: writes work again
                        self.health.ok()
                    outage = 0
                except Exception as exc:
                    if is_transient(exc):
                        outage += 1
                        self.health.failed("outbox", exc)
                    else:
                        outage = 1
                        log.exception("outbox sweep failed")
                    await wait_either(stop, wake, dbbackoff(outage))
                    continue
                if n:
                    continue
                timeout = self.settings.poll_seconds
                if idle is not None:
                    timeout = min(timeout, max(idle, 0.01))
                if self.lease is not None and set(self.messengers) - self.lease.held:
                    timeout = min(timeout, TRY_EVERY_S)  # another process's may be freed
                self.idle = True
                await wait_either(stop, wake, timeout)
                self.idle = False
        finally:
            self._wake = None
            wakeups.close()
            if self.lease is not None:
                await asyncio.to_thread(self.lease.close)  # another process takes over
            with contextlib.suppress(Exception):
                await self._flush()

