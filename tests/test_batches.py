"""A polling batch is handled in one transaction (``Router.process_batch``): each update sees
what the ones before it wrote, all of it is committed or none, and an update that fails
for its own reason sends the batch back to one-by-one handling, where it alone is parked."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.intake import UpdateIntake
from models.dberrors import DbHealth
from models.outbox import ProcessedUpdate
from models.parked import ParkedUpdate
from tests.helpers import Driver, FakeClock
from tests.test_attendance import _rows, _setup
from tests.test_resilience import BATCH, FakeBatchRouter, _op, poison_toi


async def test_a_batch_reads_its_own_writes(driver: Driver, clock: FakeClock) -> None:
    """The same RSVPs as test_attendance's, arriving in one batch: the absence form the
    button press opens is answered by the next update of the same batch."""
    _cid, mid = await _setup(driver, clock)
    before = len(driver.messenger.sent)
    batch = [driver.incoming("Hồ Đức Thắng", callback=f"rsvp:{mid}:y", group=True),
             driver.incoming("Châu Minh Tuấn", callback=f"rsvp:{mid}:n", group=True),
             driver.incoming("Châu Minh Tuấn", "2"),  # "Đi công tác", in the private chat
             driver.incoming("Phan Thị Thúy", "/vang đi học lớp trung cấp lý luận chính trị")]
    assert await driver.app.receive_many(batch) == [True] * 4
    assert await driver.app.receive_many(batch) == [False] * 4  # each handled once
    await driver.app.sender.drain()
    texts = [o.text for o in driver.messenger.sent[before:]]
    assert not any("sẽ có mặt" in t for t in texts)  # no line per answer in the group
    assert any("lý do vắng" in t for t in texts) and any("Đi công tác" in t for t in texts)
    rows = _rows(driver, mid)
    assert rows["Hồ Đức Thắng"].rsvp == "yes"
    assert (rows["Châu Minh Tuấn"].rsvp, rows["Châu Minh Tuấn"].rsvp_reason) == \
        ("no", "Đi công tác")
    assert rows["Phan Thị Thúy"].rsvp_reason.startswith("đi học lớp")


async def test_a_poison_update_in_a_batch_is_parked_alone(driver: Driver,
                                                          monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls = poison_toi(monkeypatch)
    before = len(driver.messenger.sent)
    batch = [driver.incoming("Nguyễn Văn An", "/lichhop", update_id="b1"),
             driver.incoming("Nguyễn Văn An", "/toi", update_id="poison"),
             driver.incoming("Nguyễn Văn An", "/nhiemvu", update_id="b3")]
    assert await driver.app.receive_many(batch) == [True] * 3
    assert calls["n"] == 1 + 3  # the batch's attempt, then three of its own
    with Session(driver.app.engine) as s:
        parked = s.exec(select(ParkedUpdate.update_id)).all()
        done = set(s.exec(select(ProcessedUpdate.update_id)).all())
    assert parked == ["poison"] and {"b1", "poison", "b3"} <= done
    await driver.app.sender.drain()
    texts = [o.text for o in driver.messenger.sent[before:]]
    assert len(texts) == 3  # the schedule, the apology and the tasks: each once
    assert sum("gặp sự cố" in t for t in texts) == 1


async def test_a_batch_waits_out_the_database_as_a_whole() -> None:
    router = FakeBatchRouter([_op("database is locked")] * 2)
    health = DbHealth()
    intake = UpdateIntake(router, health)  # type: ignore[arg-type]
    assert await intake.handle_many(BATCH) == [True] * 3
    assert router.batches == 3 and router.calls == 0 and not health.down


async def test_a_batch_marks_its_updates_at_once(driver: Driver) -> None:
    """The dedupe rows of a batch go in by one statement: an update handled before, and a
    second delivery of one within the same batch, are each a duplicate; the rest are
    handled once, in the batch's order."""
    await driver.app.receive_many([driver.incoming("Nguyễn Văn An", "/toi", update_id="d1")])
    await driver.app.sender.drain()
    before = len(driver.messenger.sent)
    batch = [driver.incoming("Nguyễn Văn An", "/lichhop", update_id="d3"),
             driver.incoming("Nguyễn Văn An", "/toi", update_id="d1"),
             driver.incoming("Nguyễn Văn An", "/lichhop", update_id="d3"),
             driver.incoming("Nguyễn Văn An", "/nhiemvu", update_id="d2")]
    assert await driver.app.receive_many(batch) == [True, False, False, True]
    with Session(driver.app.engine) as s:
        done = s.exec(select(ProcessedUpdate.update_id)).all()
    assert sorted(u for u in done if u.startswith("d")) == ["d1", "d2", "d3"]
    await driver.app.sender.drain()
    assert len(driver.messenger.sent) - before == 2
