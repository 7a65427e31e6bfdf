from datetime import timedelta

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from bot.sender import OutboxSender
from models.messages import Attachment, Button, Outgoing, SendError
from models.outbox import OutboxMessage, OutboxStatus
from models.outbox_queue import enqueue
from models.settings import OutboxSettings
from tests.helpers import FakeClock, RecordingMessenger

T0 = FakeClock().now


def _out(chat: str, text: str, key: str, **kw) -> Outgoing:  # type: ignore[no-untyped-def]
    return Outgoing(platform="console", chat_id=chat, text=text, key=key, **kw)


def test_same_idempotency_key_is_never_queued_twice(engine: Engine) -> None:
    with Session(engine) as s:
        assert enqueue(s, _out("c1", "một", "k1"), now=T0)
        assert not enqueue(s, _out("c1", "hai", "k1"), now=T0)
        s.commit()
    with Session(engine) as s:  # and not across transactions either
        assert not enqueue(s, _out("c2", "ba", "k1"), now=T0)
        s.commit()
        rows = list(s.exec(select(OutboxMessage)))
    assert [r.payload["text"] for r in rows] == ["một"]


async def test_order_per_chat_and_round_trip_of_payload(engine: Engine,
                                                        clock: FakeClock) -> None:
    m = RecordingMessenger()
    with Session(engine) as s:
        for i in range(3):
            enqueue(s, _out("a", f"a{i}", f"a{i}"), now=T0)
            enqueue(s, _out("b", f"b{i}", f"b{i}"), now=T0)
        enqueue(s, _out("a", "file", "af", buttons=((Button("Có", "x:1"),),),
                        attachment=Attachment("bc.xlsx", b"\x00\x01", "document")), now=T0)
        s.commit()
    sender = OutboxSender(engine, {"console": m}, clock=clock)
    assert await sender.drain() == 7
    assert m.texts("a") == ["a0", "a1", "a2", "file"]
    assert m.texts("b") == ["b0", "b1", "b2"]
    last = m.sent[-1] if m.sent[-1].chat_id == "a" else m.sent[-2]
    assert last.buttons[0][0].data == "x:1" and last.attachment.data == b"\x00\x01"


async def test_transient_errors_retry_with_backoff_and_keep_order(
        engine: Engine, clock: FakeClock) -> None:
    m = RecordingMessenger()
    m.fail = [SendError("429", transient=True, retry_after=5)]
    with Session(engine) as s:
        enqueue(s, _out("a", "first", "1"), now=T0)
        enqueue(s, _out("a", "second", "2"), now=T0)
        s.commit()
    sender = OutboxSender(engine, {"console": m}, clock=clock)
    sender.pacers["console"].delay_chat = lambda *a: None  # type: ignore[method-assign]
    await sender.drain()
    assert m.sent == []  # first failed; second waits behind it
    clock.advance(seconds=6)
    await sender.drain()
    assert m.texts() == ["first", "second"]
    with Session(engine) as s:
        first = s.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == "1")).one()
        assert first.attempts == 2 and first.status == OutboxStatus.SENT.value


async def test_permanent_error_fails_row_without_blocking_chat(
        engine: Engine, clock: FakeClock) -> None:
    m = RecordingMessenger()
    m.fail = [SendError("chat not found", transient=False)]
    with Session(engine) as s:
        enqueue(s, _out("a", "lost", "1"), now=T0)
        enqueue(s, _out("a", "next", "2"), now=T0)
        s.commit()
    await OutboxSender(engine, {"console": m}, clock=clock).drain()
    assert m.texts() == ["next"]
    with Session(engine) as s:
        row = s.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == "1")).one()
        assert row.status == OutboxStatus.FAILED.value and "chat not found" in row.last_error


async def test_attempts_exhausted_marks_failed(engine: Engine, clock: FakeClock) -> None:
    m = RecordingMessenger()
    m.fail = [SendError("boom", transient=True) for _ in range(3)]
    with Session(engine) as s:
        enqueue(s, _out("a", "x", "1"), now=T0)
        s.commit()
    sender = OutboxSender(engine, {"console": m}, OutboxSettings(max_attempts=3), clock=clock)
    for _ in range(3):
        await sender.drain()
        clock.advance(minutes=10)
    with Session(engine) as s:
        row = s.exec(select(OutboxMessage)).one()
        assert row.status == OutboxStatus.FAILED.value and row.attempts == 3


async def test_rows_left_sending_by_a_crash_are_resent_after_lease(
        engine: Engine, clock: FakeClock) -> None:
    m = RecordingMessenger()
    with Session(engine) as s:
        enqueue(s, _out("a", "in flight", "1"), now=T0)
        s.commit()
    crashed = OutboxSender(engine, {"console": m}, clock=clock)
    assert len(crashed.claim(10)) == 1  # claimed, then the process died
    fresh = OutboxSender(engine, {"console": m}, clock=clock)
    assert fresh.recover_stale() == 0  # within the lease: maybe still being sent
    assert await fresh.drain() == 0
    clock.advance(seconds=61)
    assert fresh.recover_stale() == 1
    await fresh.drain()
    assert m.texts() == ["in flight"]
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == "sent")).one() == 1


async def test_not_before_delays_delivery(engine: Engine, clock: FakeClock) -> None:
    m = RecordingMessenger()
    with Session(engine) as s:
        enqueue(s, _out("a", "later", "1"), not_before=clock() + timedelta(hours=1), now=T0)
        s.commit()
    sender = OutboxSender(engine, {"console": m}, clock=clock)
    await sender.drain()
    assert m.sent == []
    clock.advance(hours=1)
    await sender.drain()
    assert m.texts() == ["later"]
