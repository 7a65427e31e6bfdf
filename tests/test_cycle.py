"""The meeting cycle: materialisation, staged reminders (once and only once), missed
steps, reschedule, cancel, rule change, group fallback, thematic warning."""

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, func, select

from bot.app import App
from handlers.meetings.cycle import materialise, sweep
from models.meeting import Meeting
from models.org import Organisation
from models.outbox import OutboxMessage
from models.schedule import ScheduledStep
from tests.helpers import QLNS, SEC, Driver, FakeClock, RecordingMessenger, link_cell, tick

# 03/12/2026 07:30 in Hà Nội: the rule "day:3" for December (a Thursday).
DEC_MEETING = datetime(2026, 12, 3, 0, 30, tzinfo=UTC)


def _materialise(app: App) -> None:
    with Session(app.engine) as s:
        materialise(s, app.settings, app.clock())
        s.commit()


def _meeting(app: App, cell: Organisation) -> Meeting:
    with Session(app.engine) as s:
        return s.exec(select(Meeting).where(Meeting.cell_id == cell.id,
                                            Meeting.scheduled_at == DEC_MEETING)).one()


def _keys(app: App, prefix: str) -> list[str]:
    with Session(app.engine) as s:
        return list(s.exec(select(OutboxMessage.idempotency_key).where(
            OutboxMessage.idempotency_key.startswith(prefix))))


def test_materialise_follows_rule_and_is_idempotent(sample: App) -> None:
    _materialise(sample)
    _materialise(sample)
    with Session(sample.engine) as s:
        cells = s.exec(select(func.count()).select_from(Organisation).where(
            Organisation.kind == "cell")).one()
        meetings = list(s.exec(select(Meeting)))
    # This month and two ahead; November's meeting (3/11) is past: Dec and Jan remain.
    assert len(meetings) == cells * 2
    assert {m.period for m in meetings} == {"2026-12", "2027-01"}
    dec = [m for m in meetings if m.period == "2026-12"]
    assert all(m.scheduled_at == DEC_MEETING for m in dec)
    # 3/1/2027 is a Sunday: moved to Monday 4/1 07:30 local.
    jan = next(m for m in meetings if m.period == "2027-01")
    assert jan.scheduled_at == datetime(2027, 1, 4, 0, 30, tzinfo=UTC)


STAGES = [  # (step, hours relative to the start)
    ("committee", -120), ("agenda_request", -96), ("agenda_post", -72),
    # remind_2h falls at 05:30, in the quiet hours (21:00-06:30): moved to 06:30.
    ("remind_24h", -24), ("remind_2h", -1), ("rollcall", 0), ("scoring", 2),
    ("escalation", 72),
]


async def test_each_stage_fires_once_and_only_once_across_restarts(
        driver: Driver, clock: FakeClock, messenger: RecordingMessenger) -> None:
    cell = link_cell(driver, QLNS)
    driver.member("Nguyễn Văn An")  # follower of this cell and officer above it
    app = driver.app
    _materialise(app)
    mid = _meeting(app, cell).id
    for step, hours in STAGES:
        prefix = f"m{mid}:{'agenda' if step == 'agenda_post' else step}:"
        due = DEC_MEETING + timedelta(hours=hours)
        clock.set(due - timedelta(minutes=1))
        await tick(app)
        assert _keys(app, prefix) == [], step
        clock.set(due)
        await tick(app)
        first = sorted(_keys(app, prefix))
        assert first, step
        # A double sweep and a restarted process change nothing.
        await tick(app)
        app.close()
        app = App(app.settings, clock=clock, messengers=[messenger], migrate_db=False)
        await tick(app)
        assert sorted(_keys(app, prefix)) == first, step
    sent = [o.key for o in messenger.sent if o.key and o.key.startswith(f"m{mid}:")]
    assert len(sent) == len(set(sent)), "a message was delivered twice"
    # Agenda post: one group post + one private copy to the follower (Nguyễn Văn An).
    assert sorted(k.split(":")[3] for k in _keys(app, f"m{mid}:agenda:")) == ["f1", "g"]
    # Committee reminder went to the secretary and deputy (the cell has no chi ủy viên).
    assert len(_keys(app, f"m{mid}:committee:")) == 2
    # 7 members due: each reminded privately, nobody in the group.
    assert len(_keys(app, f"m{mid}:remind_24h:")) == 7
    # Escalation: officers above the cell (Nguyễn Văn An, Đảng ủy viên).
    assert len(_keys(app, f"m{mid}:escalation:")) == 1


async def test_steps_missed_while_down_are_sent_if_still_useful(
        driver: Driver, clock: FakeClock) -> None:
    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    mid = _meeting(driver.app, cell).id
    clock.set(DEC_MEETING - timedelta(hours=30))  # down since before the committee reminder
    await tick(driver.app)
    with Session(driver.app.engine) as s:
        status = {st.step: st.status for st in s.exec(
            select(ScheduledStep).where(ScheduledStep.meeting_id == mid))}
    assert status["committee"] == status["agenda_request"] == status["agenda_post"] == "done"
    assert status["remind_24h"] == "pending"
    clock.set(DEC_MEETING + timedelta(hours=1))  # down again across the start
    await tick(driver.app)
    with Session(driver.app.engine) as s:
        status = {st.step: st.status for st in s.exec(
            select(ScheduledStep).where(ScheduledStep.meeting_id == mid))}
    assert status["remind_24h"] == status["remind_2h"] == "missed"  # after the start: useless
    assert status["rollcall"] == "done"
    assert _keys(driver.app, f"m{mid}:remind_") == []


async def test_reschedule_moves_the_reminders(driver: Driver, clock: FakeClock) -> None:
    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    mid = _meeting(driver.app, cell).id
    clock.set(DEC_MEETING - timedelta(hours=72))
    await tick(driver.app)  # committee, agenda request, agenda post done
    for answer in (f"/doilich #{mid}", "05/12/2026 14:00", "Trùng lịch tiếp đoàn kiểm tra",
                   "1"):
        out = await driver.say(SEC, answer)
    assert "Đã đổi lịch" in out[-1]
    group = driver.messenger.texts(f"group-{cell.id}")
    assert "ĐỔI LỊCH" in group[-1] and "14:00 05/12/2026" in group[-1]
    new_start = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)
    clock.set(DEC_MEETING - timedelta(hours=24))  # old 24h mark: nothing now
    await tick(driver.app)
    assert _keys(driver.app, f"m{mid}:remind_24h:") == []
    clock.set(new_start - timedelta(hours=24))
    await tick(driver.app)
    keys = _keys(driver.app, f"m{mid}:remind_24h:")
    assert len(keys) == 7 and all(":1:" in k for k in keys)  # planned under revision 1
    with Session(driver.app.engine) as s:
        m = s.get(Meeting, mid)
        assert m.scheduled_at == new_start and m.revision == 1 and m.manual_time


async def test_reschedule_refuses_the_past_and_bad_dates(driver: Driver) -> None:
    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    mid = _meeting(driver.app, cell).id
    await driver.say(SEC, f"/doilich #{mid}")
    assert "đã qua" in (await driver.say(SEC, "01/01/2020 07:30"))[0]
    assert "không có trên lịch" in (await driver.say(SEC, "31/02/2027 07:30"))[0]
    assert "cả ngày và giờ" in (await driver.say(SEC, "mai"))[0]
    with Session(driver.app.engine) as s:
        assert s.get(Meeting, mid).scheduled_at == DEC_MEETING


async def test_cancel_stops_reminders_and_announces(driver: Driver, clock: FakeClock) -> None:
    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    mid = _meeting(driver.app, cell).id
    for answer in (f"/huyhop #{mid}", "Chi bộ tham gia diễn tập phòng cháy", "1"):
        await driver.say(SEC, answer)
    assert "HỦY BUỔI SINH HOẠT" in driver.messenger.texts(f"group-{cell.id}")[-1]
    clock.set(DEC_MEETING + timedelta(days=5))
    await tick(driver.app)
    assert _keys(driver.app, f"m{mid}:") == []


async def test_unreachable_members_are_reminded_in_the_group(
        driver: Driver, clock: FakeClock) -> None:
    cell = link_cell(driver, QLNS, skip=("Tạ Thị Hạnh", "Hồ Đức Thắng"))
    _materialise(driver.app)
    mid = _meeting(driver.app, cell).id
    clock.set(DEC_MEETING - timedelta(hours=24))
    await tick(driver.app)
    keys = _keys(driver.app, f"m{mid}:remind_24h:")
    assert len([k for k in keys if ":p" in k]) == 5
    group = [t for t in driver.messenger.texts(f"group-{cell.id}") if "Nhắc lịch" in t]
    assert len(group) == 1 and "Tạ Thị Hạnh" in group[0] and "Hồ Đức Thắng" in group[0]


async def test_rule_change_moves_future_regular_meetings(driver: Driver) -> None:
    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    for answer in ("/quytac", "Thứ Hai đầu tiên, sau lễ chào cờ", "08:00", "1"):
        out = await driver.say(SEC, answer)
    assert "2 buổi" in out[-1]
    with Session(driver.app.engine) as s:
        times = sorted(m.scheduled_at for m in s.exec(select(Meeting).where(
            Meeting.cell_id == cell.id)))
    assert times[0] == datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # Monday 07/12 08:00
    assert all(t.astimezone().weekday() == 0 for t in times)


async def test_thematic_warning_and_adding_a_thematic_meeting(
        driver: Driver, clock: FakeClock) -> None:
    cell = link_cell(driver, QLNS)
    clock.set(datetime(2026, 12, 20, 2, 0, tzinfo=UTC))
    _materialise(driver.app)  # Jan, Feb (mid-quarter: carries the check)
    with Session(driver.app.engine) as s:
        feb = s.exec(select(Meeting).where(Meeting.cell_id == cell.id,
                                           Meeting.period == "2027-02")).one()
    clock.set(feb.scheduled_at - timedelta(hours=96))
    await tick(driver.app)
    assert any("chưa có buổi sinh hoạt chuyên đề nào trong quý 1/2027" in t
               for t in driver.messenger.texts())
    out = await driver.say(SEC, "/lichhop")
    assert "chưa có buổi sinh hoạt chuyên đề" in out[0]
    for answer in ("/themhop", "Sinh hoạt chuyên đề", "20/02/2027 14:00",
                   "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh", "-", "1"):
        out = await driver.say(SEC, answer)
    assert "Đã thêm" in out[-1]
    out = await driver.say(SEC, "/lichhop")
    assert "chưa có buổi sinh hoạt chuyên đề" not in out[0]
    assert "Sinh hoạt chuyên đề" in out[0]


async def test_a_crashing_step_does_not_stall_the_others(
        driver: Driver, clock: FakeClock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from handlers.meetings import cycle

    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    mid = _meeting(driver.app, cell).id

    def boom(*a, **k):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug")

    monkeypatch.setitem(cycle.STEP_HANDLERS, "committee", boom)
    clock.set(DEC_MEETING - timedelta(hours=72))
    result = sweep(driver.app.engine, driver.app.settings, clock())
    assert result.missed >= 1 and result.done >= 2
    assert _keys(driver.app, f"m{mid}:agenda:")
