"""Database errors classified at one place; the intake waits out transient ones and parks
poison updates; the sender is woken by an enqueue, not by its (slow) poll."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from bot.intake import DatabaseUnavailable, UpdateIntake
from bot.pglisten import start_pg_listener
from bot.sender import OutboxSender
from models.dberrors import DbHealth, is_transient
from models.messages import Chat, Incoming, Outgoing, Sender
from models.outbox_queue import enqueue
from models.parked import ParkedUpdate
from models.settings import OutboxSettings
from tests.helpers import Driver, FakeClock, RecordingMessenger
from tests.test_telegram import until


def _op(msg: str) -> OperationalError:
    return OperationalError("INSERT …", {}, sqlite3.OperationalError(msg))


def test_errors_are_classified_at_one_place() -> None:
    assert is_transient(_op("database is locked"))
    assert not is_transient(_op("no such table: meeting"))
    assert not is_transient(IntegrityError("INSERT …", {}, sqlite3.IntegrityError("UNIQUE")))
    assert not is_transient(ValueError("bug"))
    try:  # wrapped by other code: the cause still counts
        try:
            raise _op("database is locked")
        except OperationalError as exc:
            raise RuntimeError("step failed") from exc
    except RuntimeError as outer:
        assert is_transient(outer)
    psycopg = pytest.importorskip("psycopg")
    refused = OperationalError("connect", {}, psycopg.OperationalError("connection refused"))
    assert is_transient(refused)
    serialization = psycopg.errors.SerializationFailure("could not serialize")
    assert is_transient(OperationalError("UPDATE …", {}, serialization))


class FakeRouter:
    max_attempts = 3

    def __init__(self, errors: list[BaseException]) -> None:
        self.errors = errors
        self.calls = 0
        self.parked: list[tuple[str, int]] = []

    def process(self, inc: Incoming) -> bool:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return True

    def park(self, inc: Incoming, exc: BaseException, attempts: int) -> None:
        self.parked.append((type(exc).__name__, attempts))


INC = Incoming(platform="telegram", update_id="7", chat=Chat("1", "private"),
               sender=Sender("1", "A"), text="/lichhop")


async def test_transient_errors_are_waited_out_without_parking() -> None:
    router = FakeRouter([_op("database is locked"), _op("database is locked")])
    health = DbHealth()
    intake = UpdateIntake(router, health)  # type: ignore[arg-type]
    assert await intake.handle(INC) is True
    assert router.calls == 3 and router.parked == [] and not health.down


async def test_an_update_failing_for_its_own_reason_is_parked_after_n_attempts() -> None:
    router = FakeRouter([ValueError("bug")] * 5)
    intake = UpdateIntake(router, DbHealth())  # type: ignore[arg-type]
    assert await intake.handle(INC) is True
    assert router.calls == 3 and router.parked == [("ValueError", 3)]


class FakeBatchRouter(FakeRouter):
    def __init__(self, errors: list[BaseException]) -> None:
        super().__init__(errors)
        self.batches = 0

    def process_batch(self, incs: list[Incoming]) -> list[bool]:
        self.batches += 1
        if self.errors:
            raise self.errors.pop(0)
        return [True] * len(incs)


BATCH = [Incoming(platform="telegram", update_id=str(i), chat=Chat("1", "private"),
                  sender=Sender("1", "A"), text="/lichhop") for i in range(3)]


@pytest.mark.parametrize("batch", [False, True])
async def test_stopping_during_an_outage_gives_the_update_back(batch: bool) -> None:
    router = FakeBatchRouter([_op("database is locked")] * 100)
    stop = asyncio.Event()
    intake = UpdateIntake(router, DbHealth(), stop)  # type: ignore[arg-type]
    task = asyncio.create_task(intake.handle_many(BATCH) if batch else intake.handle(INC))
    await until(lambda: router.calls + router.batches >= 1)
    stop.set()
    with pytest.raises(DatabaseUnavailable):
        await task
    assert router.parked == [] and (router.calls == 0 if batch else router.batches == 0)


def poison_toi(monkeypatch) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Make /toi fail for its own reason (a bug); counts the attempts."""
    from handlers.onboarding import profile

    calls = {"n": 0}

    def boom(*a, **k):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        raise RuntimeError("bug")

    monkeypatch.setattr(profile, "lineage", boom)
    return calls


async def test_a_poison_update_is_parked_with_one_apology(driver: Driver,
                                                          monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls = poison_toi(monkeypatch)
    inc = driver.incoming("Nguyễn Văn An", "/toi", update_id="poison")
    assert await driver.app.receive(inc) is True
    assert await driver.app.receive(inc) is False  # handled (parked): not again
    assert calls["n"] == 3
    with Session(driver.app.engine) as s:
        parked = s.exec(select(ParkedUpdate)).all()
    assert [(p.update_id, p.attempts, p.text) for p in parked] == [("poison", 3, "/toi")]
    await driver.app.sender.drain()
    assert [t for t in driver.messenger.texts() if "gặp sự cố" in t] != []
    assert len(driver.messenger.texts()) == 1


async def test_the_sender_is_woken_by_an_enqueue_not_by_its_poll(
        engine: Engine, clock: FakeClock) -> None:
    m = RecordingMessenger()
    sender = OutboxSender(engine, {"console": m}, OutboxSettings(poll_seconds=3600),
                          clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    try:
        def from_a_worker_thread() -> None:
            with Session(engine) as s:
                enqueue(s, Outgoing(platform="console", chat_id="c", text="hi", key="w1"),
                        now=clock())
                s.commit()

        await until(lambda: sender.idle)  # nothing to do: it waits (an hour at most)
        await asyncio.to_thread(from_a_worker_thread)
        await until(lambda: m.texts() == ["hi"], timeout=10)
    finally:
        stop.set()
        await task


async def test_postgres_notify_wakes_a_listener_in_another_connection(
        engine: Engine, clock: FakeClock) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    woke = threading.Event()
    listener = start_pg_listener(engine, lambda _chats: woke.set())  # chats: see test_wakeups
    assert listener is not None
    try:
        await until(lambda: woke.is_set(), timeout=10)  # it pokes once on connecting
        woke.clear()
        with Session(engine) as s:
            enqueue(s, Outgoing(platform="console", chat_id="c", text="hi", key="n1"),
                    now=clock())
            s.commit()
        await until(lambda: woke.is_set(), timeout=10)
    finally:
        listener.close()


async def test_a_sweep_cancelled_at_shutdown_ends_quietly(sample, caplog) -> None:  # type: ignore[no-untyped-def]
    """Stopping cancels a sweep still waiting on its worker thread: the job ends without
    an error (APScheduler would log a raised CancelledError with its traceback)."""
    from bot.scheduler import CycleRunner

    release = threading.Event()
    runner = CycleRunner(sample.engine, sample.settings, clock=FakeClock())
    runner.tick = lambda: release.wait(10)  # type: ignore[method-assign, assignment, return-value]
    job = asyncio.create_task(runner._job())
    await until(lambda: runner._busy, timeout=5)
    job.cancel()
    try:
        await job  # the old job let CancelledError out: APScheduler logged a traceback
    finally:
        release.set()
    assert not runner._busy
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
