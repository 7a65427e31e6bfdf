"""Property-based bad input: random text, numbers, unicode, huge and empty messages, forged
callback data and replayed buttons, at every form step and every command. Never a crash,
always a reply in a private chat, and the final tables change only when a form finishes."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import Session, select

from bot.app import App
from handlers.core.router import CALLBACKS, COMMANDS
from handlers.meetings.cycle import materialise
from models.attendance import Attendance
from models.audit import AuditEntry
from models.form import FormState
from models.meeting import AgendaItem, Meeting, Task
from models.member import LinkCode, Member
from models.org import ChatBinding
from models.score import Score
from tests.helpers import Driver, link_cell, tick
from tests.test_cycle import DEC_MEETING

SEC = "Dương Văn Thành"
FINAL = (Meeting, AgendaItem, Attendance, Score, Task, Member, ChatBinding, AuditEntry)
FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

junk = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=50),
    st.integers(-10**12, 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", " ", "\n", "0", "-1", "999", "1e309", "NaN", "xong", "đủ", "|||",
                     "1 | | ", "* x", "99-1 c", "/", "/ ", "@", "\u202e\u200b", "１２"]),
    st.integers(2000, 20000).map(lambda n: "9" * n),
    # Issue 14: row numbers past int()'s digit limit, NUL bytes, lone surrogates, formulas.
    st.sampled_from(["9" * 5000 + " c", "1-" + "9" * 5000 + " k", "kết\x00luận", "\x00",
                     "\ud800", '=HYPERLINK("http://x";"y")', "x" * 5000]),
)

# Each form, and the answers that lead to each of its steps. No path reaches a confirm
# step with a valid answer to it, so junk can never finish a form.
FORM_PATHS = {
    "/mien": ["3", "2"],
    "/chuongtrinh": ["1", "Không", "Hội trường", "Mục | Đ/c A"],
    "/doilich": ["1", "05/12/2026 14:00"],
    "/huyhop": ["1"],
    "/themhop": ["1", "20/12/2026 14:00", "Chuyên đề"],
    "/quytac": ["1", "5"],
    "/diemdanh": ["1", "07:30", "09:30", "* c", "Đúng"],
    "/chamdiem #{nov}": ["3 2 2", "5 14 2 1 1 1", "đủ", "1 2 1 1", "27", "2 2"],
    "/ghibienban": ["1", "Xong", "1", "1", "Thang: Ý kiến.", "Xong", "Kết luận."],
    "/hopchiuy": ["1", "Vừa họp xong", "Đủ tất cả"],
}


def snapshot(app: App) -> dict[str, int]:
    with Session(app.engine) as s:
        counts = {t.__name__: s.exec(select(func.count()).select_from(t)).one() for t in FINAL}
        counts["exempted"] = s.exec(select(func.count()).select_from(Member).where(
            Member.exempted == True)).one()  # noqa: E712
    return counts


def form_of(app: App, user: str) -> FormState | None:
    with Session(app.engine) as s:
        return s.exec(select(FormState).where(FormState.user_id == user)).first()


@pytest.fixture
def world(driver: Driver, clock) -> Iterator[Driver]:  # type: ignore[no-untyped-def]
    """All members linked; December's meeting has started (roll call possible) and a
    held November meeting waits for its score (scoring possible)."""
    cell = link_cell(driver, "Chi bộ Phòng Quản lý ngân sách")
    with Session(driver.app.engine) as s:
        materialise(s, driver.app.settings, clock())
        nov = Meeting(cell_id=cell.id, period="2026-11", status="held",
                      scheduled_at=DEC_MEETING - timedelta(days=30),
                      started_at=DEC_MEETING - timedelta(days=30),
                      ended_at=DEC_MEETING - timedelta(days=30, minutes=-95), speakers_count=3)
        s.add(nov)
        s.flush()
        for m in s.exec(select(Member).where(Member.cell_id == cell.id)):
            s.add(Attendance(meeting_id=nov.id, member_id=m.id,
                             status="present" if m.due_to_attend else "exempted"))
        s.commit()
        driver.nov = nov.id  # type: ignore[attr-defined]
    loop = asyncio.new_event_loop()
    clock.set(DEC_MEETING + timedelta(hours=2))
    loop.run_until_complete(tick(driver.app))
    driver.loop = loop  # type: ignore[attr-defined]
    yield driver
    loop.close()


_ids = itertools.count(1)


def say(d: Driver, who: str, text: str, group: bool = False) -> list[str]:
    loop: asyncio.AbstractEventLoop = d.loop  # type: ignore[attr-defined]
    return loop.run_until_complete(d.say(who, text, group=group))


@pytest.mark.parametrize("command", list(FORM_PATHS))
@FUZZ
@given(data=st.data())
def test_junk_at_every_form_step(world: Driver, command: str, data: st.DataObject) -> None:
    sec = world.member(SEC)
    path = FORM_PATHS[command]
    depth = data.draw(st.integers(0, len(path)), label="step")
    say(world, SEC, "/huy")
    say(world, SEC, command.format(nov=world.nov))  # type: ignore[attr-defined]
    for answer in path[:depth]:
        say(world, SEC, answer)
    state = form_of(world.app, f"m{sec.id}")
    assert state is not None, (command, depth)
    before, step = snapshot(world.app), state.step
    text = data.draw(junk, label="input")
    out = say(world, SEC, text)
    assert not any("gặp sự cố" in t for t in out), out
    after = form_of(world.app, f"m{sec.id}")
    if after is not None:
        assert out, "a private message always gets an answer"
        assert snapshot(world.app) == before  # nothing final is written mid-form
        if any(t.startswith("⚠️") for t in out):
            assert after.step == step  # refused: asked again at the same step
    say(world, SEC, "/huy")


@FUZZ
@given(name=st.sampled_from(sorted(COMMANDS)), args=junk,
       who=st.sampled_from([SEC, "Hồ Đức Thắng", "Nguyễn Văn An", "Đỗ Mạnh Cường"]),
       group=st.booleans())
def test_junk_arguments_to_every_command(world: Driver, name: str, args: str, who: str,
                                         group: bool) -> None:
    out = say(world, who, f"/{name} {args}", group=group)
    assert not any("gặp sự cố" in t for t in out), out
    if not group:
        assert out
    say(world, who, "/huy")


@FUZZ
@given(prefix=st.sampled_from([*sorted(CALLBACKS), "zz", "", "f:1"]),
       parts=st.lists(st.one_of(st.integers(-5, 10**9).map(str), st.text(max_size=12)),
                      max_size=4),
       who=st.sampled_from([SEC, "Hồ Đức Thắng", "Ngô Thị Mai"]))
def test_forged_callbacks_change_nothing(world: Driver, prefix: str, parts: list[str],
                                         who: str) -> None:
    data = ":".join([prefix, *parts])
    world.member(who)  # the test driver binds the console group on first use: not the bot
    before = snapshot(world.app)
    with Session(world.app.engine) as s:
        codes = s.exec(select(func.count()).select_from(LinkCode)).one()
    loop: asyncio.AbstractEventLoop = world.loop  # type: ignore[attr-defined]
    out = loop.run_until_complete(world.press(who, data))
    assert not any("gặp sự cố" in t for t in out), out
    assert out
    after = snapshot(world.app)
    # A forged press may at most start a form or answer an RSVP: never touch
    # meetings, scores, tasks, members or bindings.
    for table in ("Meeting", "Score", "Task", "Member", "ChatBinding", "exempted"):
        assert after[table] == before[table], (data, table)
    with Session(world.app.engine) as s:
        assert s.exec(select(func.count()).select_from(LinkCode)).one() - codes <= 1
    say(world, who, "/huy")


def test_replayed_buttons_of_a_finished_form_are_refused(world: Driver) -> None:
    say(world, SEC, "/mien")
    buttons = world.last_buttons()
    for a in ("3", "2", "-", "1"):
        say(world, SEC, a)
    before = snapshot(world.app)
    loop: asyncio.AbstractEventLoop = world.loop  # type: ignore[attr-defined]
    for _label, data in buttons:
        out = loop.run_until_complete(world.press(SEC, data))
        assert "bước đã qua" in out[0]
    assert snapshot(world.app) == before
