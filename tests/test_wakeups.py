"""How the outbox sender is woken, and what a wake-up costs: in-process for the platforms
this process sends for, by one NOTIFY after the commit (naming the chats) for the others,
and no read of the heads for a row queued behind an undelivered one of its chat. Webhook
updates that arrive together are handled in one batch."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session

from bot.pglisten import MAX_PAYLOAD, Wakeups, decode, encode
from bot.platforms.webhook import Batcher
from bot.sender import OutboxSender
from bot.sender_sql import heads_stmt
from models.messages import Outgoing
from models.outbox_queue import CHANNEL, enqueue
from tests.helpers import FakeClock, RecordingMessenger

T0 = FakeClock().now


def _out(chat: str, key: str, platform: str = "telegram") -> Outgoing:
    return Outgoing(platform=platform, chat_id=chat, text="Chào đồng chí", key=key)


def _pg(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("NOTIFY is PostgreSQL's (set CHIBOT_TEST_DATABASE_URL)")


class Statements:
    def __init__(self, engine: Engine) -> None:
        self.engine, self.seen = engine, []  # type: ignore[var-annotated]
        event.listen(engine, "before_cursor_execute", self._add)

    def _add(self, _conn, _cursor, statement, *_a) -> None:  # type: ignore[no-untyped-def]
        self.seen.append(statement.upper())

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._add)

    def notified(self) -> bool:
        return any("NOTIFY" in s for s in self.seen)


def test_the_sender_of_the_platform_is_woken_in_process_without_notify(
        engine: Engine) -> None:
    pokes: list[object] = []
    pg = engine.dialect.name == "postgresql"
    wakeups = Wakeups(engine, pokes.append, lambda: {"telegram"} if pg else None)
    statements = Statements(engine)
    try:
        with Session(engine) as s:
            enqueue(s, _out("c1", "k1"), now=T0)
            enqueue(s, _out("c2", "k2"), now=T0)
            s.commit()
    finally:
        statements.close()
        wakeups.close()
    assert frozenset({("telegram", "c1"), ("telegram", "c2")}) in pokes
    assert not statements.notified()  # no commit serialised on the notification queue


def test_without_a_running_sender_the_transaction_notifies(engine: Engine) -> None:
    """A CLI command (an import) wakes the running bots the old way."""
    _pg(engine)
    statements = Statements(engine)
    try:
        with Session(engine) as s:
            enqueue(s, _out("c1", "k1"), now=T0)
            enqueue(s, _out("c2", "k2"), now=T0)
            s.commit()
    finally:
        statements.close()
    assert sum("NOTIFY" in s for s in statements.seen) == 1


def test_rows_for_another_process_s_platform_are_announced_after_commit(
        engine: Engine) -> None:
    _pg(engine)
    import psycopg

    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as other:
        other.execute(f"LISTEN {CHANNEL}")
        wakeups = Wakeups(engine, lambda _chats: None, lambda: set())  # sends for nothing
        try:
            with Session(engine) as s:
                enqueue(s, _out("c7", "k7"), now=T0)
                s.commit()
            got = [decode(n.payload) for n in other.notifies(timeout=20, stop_after=1)]
        finally:
            wakeups.close()
    assert got == [frozenset({("telegram", "c7")})]


def test_a_notify_names_its_chats_or_none_when_too_many() -> None:
    chats = {("telegram", "-100123"), ("zalo", "a b")}
    assert decode(encode(chats)) == frozenset(chats)
    many = {("telegram", str(10**12 + i)) for i in range(MAX_PAYLOAD // 10)}
    assert encode(many) == "" and decode("") is None  # None: read every head


async def test_a_row_behind_an_undelivered_one_of_its_chat_reads_no_heads(
        engine: Engine, clock: FakeClock) -> None:
    m = RecordingMessenger()
    with Session(engine) as s:
        enqueue(s, _out("a", "a1", "console"), now=T0)
        s.commit()
    sender = OutboxSender(engine, {"console": m}, clock=clock)
    await asyncio.to_thread(sender.claim, 0, True)  # heads read: a1, nothing claimed
    with Session(engine) as s:
        enqueue(s, _out("a", "a2", "console"), now=T0)
        enqueue(s, _out("b", "b1", "console"), now=T0)
        s.commit()
    sender._woken(frozenset({("console", "a")}))
    assert not sender._stale  # a2 cannot go before a1: nothing new to read
    sender._woken(frozenset({("console", "b")}))
    assert sender._stale  # b1 is a new head
    sender._stale = False
    sender._woken(None)  # a NOTIFY naming no chat
    assert sender._stale
    assert await sender.drain() == 3
    assert m.texts("a") == ["Chào đồng chí"] * 2 and len(m.texts("b")) == 1


def test_the_heads_query_probes_its_chat_per_row(engine: Engine) -> None:
    """Never a join of every pending row with every other (the plan PostgreSQL chose for
    a young table: 1.4 s per read with 2,000 replies queued)."""
    _pg(engine)
    with Session(engine) as s:
        for i in range(300):
            enqueue(s, _out(f"c{i % 3}", f"k{i}"), now=T0)
        s.commit()
    params = {"now": T0, "platforms": ["telegram"], "limit": 256}
    compiled = heads_stmt().compile(engine)
    expanded = compiled.construct_expanded_state(params)
    with engine.connect() as conn:
        plan = "\n".join(r[0] for r in conn.exec_driver_sql(
            "EXPLAIN " + expanded.statement, expanded.parameters))
        heads = conn.execute(heads_stmt(), params).all()
    assert "Anti Join" not in plan and "SubPlan" in plan, plan
    assert len(heads) == 3


async def test_webhook_updates_that_arrive_together_are_handled_together() -> None:
    batches: list[list[int]] = []
    first_running = asyncio.Event()
    release = asyncio.Event()

    async def handle(items: list[int]) -> None:
        batches.append(list(items))
        if len(batches) == 1:
            first_running.set()
            await release.wait()
        if 5 in items:
            raise RuntimeError("database gone")

    batcher: Batcher[int] = Batcher(handle, size=3, workers=1)
    first = asyncio.create_task(batcher.submit(0))
    await first_running.wait()  # a lone update is handled at once
    rest = [asyncio.create_task(batcher.submit(i)) for i in range(1, 6)]
    await asyncio.sleep(0)  # they are queued behind the first batch
    release.set()
    results = await asyncio.gather(first, *rest, return_exceptions=True)
    assert batches == [[0], [1, 2, 3], [4, 5]]
    assert results[:4] == [None] * 4
    # the failed batch's updates are all refused (the webhook answers 500: delivered again)
    assert all(isinstance(r, RuntimeError) for r in results[4:])
