"""`chibot demo --year`: a whole year of one cell at speed, ending with the year's
classification summary.

The same fresh embedded database and sample bloc as `chibot demo`; the clock jumps from
one moment of each month to the next (agenda, roll call, score, fees) instead of hour by
hour. The secretary roll-calls, scores and records the fees through the bot each month;
in December the members' self-assessment, the cell's proposal and the base
organisation's confirmation go through the bot too. One line per month is printed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from bot.demo import CELL, Demo
from bot.platforms.console import ConsoleMessenger
from models.meeting import Meeting
from models.member import Member
from models.org import Organisation, subtree_cells
from models.settings import Settings

YEAR = 2026
DUE_ORDER = ["Dương Văn Thành", "Lý Thị Kim Oanh", "Hồ Đức Thắng", "Mai Thị Phương",
             "Phan Thị Thúy", "Châu Minh Tuấn", "Tạ Thị Hạnh"]
# Roll-call edits per month (numbers in the roll-call list of the 7 members due):
# Châu Minh Tuấn excused four times running (Mar–Jun), Tạ Thị Hạnh unexcused in Feb, Sep.
ROLL = {2: "1-6 c, 7 k", 3: "1-5 c, 6 v công tác, 7 c", 4: "1-5 c, 6 v công tác, 7 c",
        5: "1-5 c, 6 v điều trị, 7 c", 6: "1-5 c, 6 v điều trị, 7 c", 9: "1-6 c, 7 k"}
FIRST_FEES = "1 50.000; 2 45.000; 3 40k; 4 40 nghìn; 5 30.000; 6 35,000; 7 35k; 8 30k"
SCORE = ["3 2 2", "5 14 2 1 1 1", "đủ", "1 2 1 1", "27", "2 2",
         "Chi bộ thống nhất các nhiệm vụ trọng tâm của tháng.", "Xong", "1"]


class YearDemo(Demo):
    def __init__(self, settings: Settings, write: Callable[[str], None] = print,
                 out_dir: Path | None = None) -> None:
        super().__init__(settings, write, out_dir)
        for messenger in self.app.messengers.values():  # every file the bot sends, kept
            if isinstance(messenger, ConsoleMessenger):
                messenger.out_dir = self.out_dir
        self.clock.now = datetime(YEAR, 1, 1, 1, 0, tzinfo=UTC)
        self.transcript: list[str] = []

    def _print(self, text: str) -> None:  # the year is told month by month, not message
        self.transcript.append(text.split("──\n", 1)[-1].strip())  # by message

    async def say(self, m: Member, text: str, group: bool = False) -> None:
        self.app.handle(self._incoming(m, text, None, group))
        await self.app.sender.drain()

    async def press(self, m: Member, data: str, caption: str, group: bool = False) -> None:
        self.app.handle(self._incoming(m, None, data, group))
        await self.app.sender.drain()

    async def jump(self, when: datetime) -> None:
        """One sweep at ``when``: steps whose moment has passed are marked missed."""
        self.clock.now = when
        await self.tick()

    async def play(self) -> dict[str, object]:  # type: ignore[override]
        cell, mem = self.setup()
        self.cell = cell
        sec, officer = mem["Dương Văn Thành"], mem["Nguyễn Văn An"]
        self.write(f"=== Mô phỏng một năm sinh hoạt của {CELL} ({YEAR}) ===")
        for month in range(1, 13):
            await self.jump(datetime(YEAR, month, 1, 1, 0, tzinfo=UTC))
            with Session(self.app.engine) as s:
                m = s.exec(select(Meeting).where(Meeting.cell_id == cell.id,
                                                 Meeting.period == f"{YEAR}-{month:02d}",
                                                 Meeting.seq == 0)).one()
                mid, start = m.id, m.scheduled_at
            await self.jump(start - timedelta(hours=72))  # the agenda goes to the group
            await self.jump(start + timedelta(hours=2, minutes=30))
            before = len(self.transcript)
            await self.press(sec, f"rc:{mid}", "Điểm danh")
            for answer in ("1", "09:35", "4", ROLL.get(month, "* c"), "Đúng"):
                await self.say(sec, answer)
            await self.press(sec, f"sc:{mid}", "Chấm điểm")
            for answer in SCORE:
                await self.say(sec, answer)
            fees = FIRST_FEES if month == 1 else "8 chưa; tất cả" if month == 7 else "tất cả"
            await self.say(sec, f"/dangphi {month:02d}/{YEAR} {fees}")
            await self.jump(start + timedelta(days=4))
            self.write(self._month_line(mid or 0, month, self.transcript[before:]))
        await self.jump(datetime(YEAR, 12, 20, 2, 0, tzinfo=UTC))
        await self.say(mem["Tạ Thị Hạnh"], "/tudanhgia 2 Hoàn thành nhiệm vụ chuyên môn.")
        await self.say(sec, "/danhgia")
        await self.say(sec, f"/danhgia {YEAR} 3 1")
        with Session(self.app.engine) as s:
            base = s.get(Organisation, cell.parent_id)
            assert base is not None
            number = [c.id for c in subtree_cells(s, root=base)].index(cell.id) + 1
        await self.say(officer, f"/duyet {YEAR} {number}")
        self.write("\n" + "\n".join(self.transcript[-1:]))
        from handlers.year.sheets import summary_lines

        with Session(self.app.engine) as s:
            base = s.get(Organisation, cell.parent_id)
            assert base is not None
            lines = summary_lines(s, base, YEAR, self.app.settings)
        self.write("\n=== Tổng kết năm: xếp loại ===")
        for line in lines:
            self.write(line)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / "transcript.txt").write_text("\n".join(self.lines) + "\n",
                                                     encoding="utf-8")
        self.write(f"\nBản ghi (transcript.txt) và các tệp bot đã gửi trong năm ở "
                   f"{self.out_dir.resolve()}/")
        return {"total": len(lines), "lines": lines}

    def _month_line(self, meeting_id: int, month: int, texts: list[str]) -> str:
        s_ = self.summary(meeting_id)
        lines: list[str] = s_["lines"]  # type: ignore[assignment]
        notes = [ln.strip() for t in texts for ln in t.splitlines()
                 if ln.startswith(("⛔", "⚠️", "ℹ️")) and "Đồng chí" in ln]
        fee = next((t.splitlines()[0] for t in texts if t.startswith("Đã ghi đảng phí")), "")
        return f"Tháng {month:02d}/{YEAR}: " + "; ".join([lines[1], lines[3], fee]) + \
            "".join(f"\n    {n}" for n in notes)


async def run_year_demo(settings: Settings, write: Callable[[str], None] = print, *,
                        keep: bool = False, out_dir: Path | None = None) -> dict[str, object]:
    """The year in a throw-away database, or with ``keep`` in the configured one; the
    transcript and every file the bot sent go to ``out_dir`` (default ./chibot-demo)."""
    import tempfile

    if keep:
        demo = YearDemo(settings, write, out_dir)
        try:
            return await demo.play()
        finally:
            demo.app.close()
    with tempfile.TemporaryDirectory(prefix="chibot-demo-") as tmp:
        fresh = settings.model_copy(update={
            "data_dir": Path(tmp),
            "database": settings.database.model_copy(update={"url": f"sqlite:///{tmp}/d.db"})})
        demo = YearDemo(fresh, write, out_dir)
        try:
            return await demo.play()
        finally:
            demo.app.close()
