"""`chibot demo --web`: the demo bloc's web view on 127.0.0.1, opened with a one-time
link printed in the terminal (a newcomer needs no bot token).

The sample bloc (two base organisations, four cells, 40 members) gets twelve months of
history, made with a fixed seed: roll calls with reasons, scores with their criteria,
fees, an upper-level attendee now and then; this month one cell has not met yet, one has
not scored and one could not hold its meeting, so "Còn thiếu" has something to show.
The browser tests use the same bloc.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.importer import import_file
from models.attendance import Attendance
from models.base import utcnow
from models.fees import FeePayment
from models.meeting import Meeting
from models.member import Identity, Member
from models.org import CELL_KINDS, Organisation
from models.records import Guest
from models.rubric import Rubric, load_rubric
from models.score import Score, ScoreItem
from models.settings import Settings
from models.web import mint_link

SAMPLE = Path(__file__).resolve().parent / "data" / "sample_bloc.csv"
OFFICER = "Đỗ Mạnh Cường"  # the bloc officer of the sample sheet
TELEGRAM_USER = 7000001  # the officer's Telegram id in the demo (and the browser tests)
UNLINKED = ("Tạ Thị Hạnh", "Phạm Thị Thu Hà")  # never started the bot
# This month: (cell name, parent) -> what happened
THIS_MONTH = {"Chi bộ Văn phòng Sở|Đảng bộ Sở Tài chính": "unscored",
              "Chi bộ Phòng Giáo dục Trung học|Đảng bộ Sở Giáo dục và Đào tạo": "not_met",
              "Chi bộ Văn phòng Sở|Đảng bộ Sở Giáo dục và Đào tạo": "not_held"}


def _months(today: datetime, n: int) -> list[tuple[int, int]]:
    k = today.year * 12 + today.month - 1
    return [((k - i) // 12, (k - i) % 12 + 1) for i in range(n - 1, -1, -1)]


def seed_demo(engine: Engine, settings: Settings, now: datetime | None = None,
              rng_seed: int = 22) -> int:
    """Import the sample bloc with a year of history; returns the bloc officer's id."""
    now = now or utcnow()
    report = import_file(engine, SAMPLE, bloc_name=settings.bloc_name,
                         timezone=settings.timezone)
    assert report.ok, report.errors
    rng = random.Random(rng_seed)
    rubric = load_rubric(settings.rubrics_dir, settings.rubric)
    with Session(engine) as s:
        cells = list(s.exec(select(Organisation).where(Organisation.kind.in_(CELL_KINDS))
                            .order_by(Organisation.path)))
        parents = {o.id: o.name for o in s.exec(select(Organisation))}
        months = _months(now, 12)
        for cell in cells:
            members = list(s.exec(select(Member).where(Member.cell_id == cell.id)
                                  .order_by(Member.id)))
            state = THIS_MONTH.get(f"{cell.name}|{parents.get(cell.parent_id)}", "done")
            for y, mo in months:
                current = (y, mo) == (now.year, now.month)
                _month(s, rng, rubric, cell, members, y, mo, state if current else "done")
        for m in s.exec(select(Member)):
            if m.full_name not in UNLINKED:
                s.add(Identity(member_id=m.id or 0, platform="console",
                               platform_user_id=f"m{m.id}", display_name=m.full_name,
                               private_chat_id=f"p{m.id}"))
        officer = s.exec(select(Member).where(Member.full_name == OFFICER)).one()
        s.add(Identity(member_id=officer.id or 0, platform="telegram",
                       platform_user_id=str(TELEGRAM_USER), display_name=OFFICER,
                       private_chat_id=str(TELEGRAM_USER)))
        s.commit()
        return officer.id or 0


def _month(s: Session, rng: random.Random, rubric: Rubric, cell: Organisation,
           members: list[Member], y: int, mo: int, state: str) -> None:
    at = datetime(y, mo, 1, 0, 30, tzinfo=UTC)  # 07:30 in Hà Nội, after the flag ceremony
    status = {"not_met": "planned", "not_held": "not_held"}.get(state, "held")
    m = Meeting(cell_id=cell.id or 0, period=f"{y:04d}-{mo:02d}", scheduled_at=at,
                status=status, thematic_part=mo % 3 == 0,
                topic="Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh"
                if mo % 3 == 0 else None,
                cancel_reason="Không đủ số đảng viên dự họp (dưới một nửa)"
                if status == "not_held" else None,
                started_at=at if status == "held" else None,
                ended_at=at + timedelta(minutes=rng.choice((85, 95, 110)))
                if status == "held" else None)
    s.add(m)
    s.flush()
    if status == "planned":
        return
    for mem in members:
        r = rng.random()
        if not mem.due_to_attend:
            st, why = "exempted", mem.exempt_reason
        elif status == "not_held":
            st, why = ("present", None) if r < 0.4 else ("excused", "Đi công tác")
        else:
            st, why = (("present", None) if r < 0.86 else ("late", None) if r < 0.9
                       else ("excused", rng.choice(("Đi công tác", "Ốm", "Việc gia đình")))
                       if r < 0.97 else ("unexcused", None))
        s.add(Attendance(meeting_id=m.id or 0, member_id=mem.id or 0, status=st, reason=why))
        s.add(FeePayment(member_id=mem.id or 0, cell_id=cell.id or 0, period=m.period,
                         paid=r < 0.96, amount=rng.choice((30000, 40000, 50000))
                         if r < 0.96 else 0))
    if status == "held" and rng.random() < 0.4:
        s.add(Guest(meeting_id=m.id or 0, name="Đồng chí cấp ủy cấp trên",
                    upper_level=True))
    if status != "held" or state == "unscored":
        return
    points = {}
    for c in rubric.criteria():
        top = rubric.effective_max(c, m.thematic_part)
        points[c.id] = max(top - (rng.random() < 0.25) * min(top, rng.choice((1, 2, 3))), 0)
    total, rating = rubric.rate(points, m.thematic_part)
    sc = Score(meeting_id=m.id or 0, kind="cell", rubric_id=rubric.id,
               rubric_version=rubric.version, total=total, rating=rating,
               reason="Tiêu chí 7 sửa theo số nhiệm vụ thực tế đã hoàn thành"
               if rng.random() < 0.1 else None)
    s.add(sc)
    s.flush()
    for c in rubric.criteria():
        s.add(ScoreItem(score_id=sc.id or 0, criterion_id=c.id, points=points[c.id],
                        auto=c.auto is not None))


def print_link(engine: Engine, settings: Settings, member_id: int, base: str,
               write: Callable[[str], None] = print) -> str:
    with Session(engine) as s:
        token = mint_link(s, member_id=member_id, now=utcnow())
        s.commit()
    url = f"{base}/web/l/{token}"
    write(f"Trang theo dõi của khối mẫu: {url}")
    write("(Liên kết dùng một lần, hết hạn sau 10 phút. Ctrl+C để dừng.)")
    return url


async def serve_demo(settings: Settings, stop: asyncio.Event | None = None,
                     write: Callable[[str], None] = print) -> int:
    from bot.web.http import start_http
    from bot.web.server import add_routes
    from models import i18n
    from models.db import make_engine, migrate

    with tempfile.TemporaryDirectory(prefix="chibot-web-") as tmp:
        url = f"sqlite:///{tmp}/web.db"
        i18n.configure(settings.locales_dir, settings.locale)
        engine = make_engine(url)
        migrate(engine)
        officer = seed_demo(engine, settings)
        # 127.0.0.1 and an ephemeral port: the printed link says where
        web_settings = settings.web.model_copy(update={"host": "127.0.0.1", "port": 0})
        fresh = settings.model_copy(update={"web": web_settings})
        started = await start_http(fresh, [lambda app: add_routes(app, engine, fresh)])
        if started is None:
            engine.dispose()
            return 1
        runner, port = started
        print_link(engine, fresh, officer, f"http://127.0.0.1:{port}", write)
        try:
            await (stop or asyncio.Event()).wait()
        finally:
            await runner.cleanup()
            engine.dispose()
    return 0
