"""`chibot demo`: one month of one cell, played in simulated time, printed as a transcript.

A fresh embedded database is seeded with the sample bloc; the members of one cell talk to
the bot through the console platform. Time is a simulated clock moved hour by hour: each
hour the cycle sweeps due steps and the outbox delivers, exactly as `chibot run` would.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from bot.app import App
from bot.console_app import chat_namer
from bot.importer import import_file
from bot.platforms.console import (
    PLATFORM,
    ConsoleMessenger,
    ensure_group,
    ensure_identity,
    group_chat_id,
    private_chat_id,
)
from handlers.core.labels import label
from handlers.meetings.cycle import materialise, sweep
from models.attendance import Attendance
from models.i18n import fmt_datetime, fmt_number, fmt_percent
from models.meeting import Meeting
from models.member import Member, cell_members
from models.messages import Chat, Incoming, Sender
from models.org import Organisation
from models.score import Score
from models.settings import Settings
from models.text import fold

SAMPLE = Path(__file__).resolve().parent / "data" / "sample_bloc.csv"
CELL = "Chi bộ Phòng Quản lý ngân sách"
TZ = "Asia/Ho_Chi_Minh"


class SimClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Effort:
    """What the secretary had to do this month: messages typed, characters, button taps.

    The demo plays a Telegram secretary: a reply that only picks a choice the bot offered
    as a button ("1", "Xong") is typed on the console but is a tap on Telegram, so it is
    counted as a tap. Zalo has no buttons: there the same choice, and every button the demo
    presses, is a typed number, so the month's cost on Zalo is counted too (``zalo_*``).
    The words of members' opinions in the minutes are content the secretary would write
    anyway, so they are counted apart (``content_chars``) from the characters the bot
    makes the secretary type to drive it.
    """

    messages: int = 0  # typed on Telegram: free text, not a choice the bot offered
    chars: int = 0
    content_chars: int = 0
    taps: int = 0  # buttons pressed, and choices the bot offered as buttons
    choices: int = 0  # of ``taps``: typed on the console as the button's number or words
    zalo_messages: int = 0
    zalo_chars: int = 0

    def typed(self, text: str, content: str = "", choice: bool = False) -> None:
        self.content_chars += len(content)
        if choice:
            self.taps += 1
            self.choices += 1
        else:
            self.messages += 1
            self.chars += len(text) - len(content)
        self.zalo_messages += 1
        self.zalo_chars += len(text) - len(content)

    def pressed(self, number: int) -> None:
        """A button pressed on Telegram; on Zalo its number (in the bot's list) is typed."""
        self.taps += 1
        self.zalo_messages += 1
        self.zalo_chars += len(str(number))

    def lines(self) -> list[str]:
        return [f"Công sức của bí thư trong tháng (Telegram): {self.messages} tin nhắn gõ, "
                f"{self.chars} ký tự (không kể {self.content_chars} ký tự nội dung ý kiến), "
                f"{self.taps} lần bấm nút (trong đó {self.choices} lựa chọn mà bản chạy thử "
                f"gõ bằng số hoặc chữ của nút)",
                f"Cùng tháng trên Zalo (không có nút, chọn bằng số thứ tự): "
                f"{self.zalo_messages} tin nhắn gõ, {self.zalo_chars} ký tự (không kể "
                f"{self.content_chars} ký tự nội dung ý kiến)"]


class Demo:
    def __init__(self, settings: Settings, write: Callable[[str], None] = print,
                 out_dir: Path | None = None) -> None:
        self.clock = SimClock(datetime(2026, 11, 25, 1, 0, tzinfo=UTC))  # 08:00 in Hà Nội
        self.lines: list[str] = []
        self.out_dir = out_dir or Path("chibot-demo")

        def both(text: str) -> None:
            self.lines.append(text)
            write(text)

        self.write = both
        self.app = App(settings, clock=self.clock)
        self.messenger = ConsoleMessenger(self._describe, self._print)
        self.app.add_messenger(self.messenger)
        self.cell: Organisation | None = None
        self._ids = itertools.count(1)
        self._describe_chat = chat_namer(self.app)
        self.secretary_id: int | None = None
        self.effort = Effort()

    def _describe(self, chat_id: str) -> str:
        return f"{fmt_datetime(self.clock(), TZ)} · {self._describe_chat(chat_id)}"

    def _print(self, text: str) -> None:
        self.write(text)

    def setup(self) -> tuple[Organisation, dict[str, Member]]:
        report = import_file(self.app.engine, SAMPLE, bloc_name=self.app.settings.bloc_name,
                             timezone=TZ)
        assert report.ok, report.errors
        with Session(self.app.engine, expire_on_commit=False) as s:
            cell = s.exec(select(Organisation).where(Organisation.name == CELL)).one()
            members = {m.full_name: m for m in cell_members(s, cell_id=cell.id or 0)}
            # Everyone but one member has started a private chat with the bot.
            for name, m in members.items():
                if name != "Tạ Thị Hạnh":
                    ensure_identity(s, m)
            an = s.exec(select(Member).where(Member.full_name == "Nguyễn Văn An")).one()
            ensure_identity(s, an)  # the upper-level member who follows this cell
            ensure_group(s, cell)
            s.commit()
            members["Nguyễn Văn An"] = an
        return cell, members

    # -- acting as members ---------------------------------------------------------------
    def _incoming(self, m: Member, text: str | None, callback: str | None,
                  group: bool) -> Incoming:
        chat = Chat(group_chat_id(m.cell_id or 0), "group") if group \
            else Chat(private_chat_id(m.id or 0), "private")
        return Incoming(platform=PLATFORM, update_id=f"demo-{next(self._ids)}", chat=chat,
                        sender=Sender(f"m{m.id}", m.full_name), text=text,
                        callback_data=callback, timestamp=self.clock(),
                        event="callback" if callback else "message", mentions_bot=group)

    async def say(self, m: Member, text: str, group: bool = False, content: str = "") -> None:
        """`m` types `text`; `content` is the part of it that is an opinion's own words."""
        if m.id == self.secretary_id:
            self.effort.typed(text, content, choice=not group and self._is_choice(m, text))
        where = "nhóm" if group else "riêng"
        self.write(f"» {fmt_datetime(self.clock(), TZ)} · {m.full_name} ({where}): {text}")
        self.app.handle(self._incoming(m, text, None, group))
        await self.app.sender.drain()

    def _is_choice(self, m: Member, text: str) -> bool:
        """Whether ``text`` names a button of the last message the bot sent ``m``."""
        chat = private_chat_id(m.id or 0)
        last = next((o for o in reversed(self.messenger.sent) if o.chat_id == chat), None)
        if last is None:
            return False
        labels = [fold(b.label) for row in last.buttons for b in row]
        t = fold(text)
        return t in labels or any(fold(lab).endswith(" " + t) for lab in labels) or (
            t.isdigit() and 1 <= int(t) <= len(labels))

    def _button_number(self, m: Member, data: str) -> int:
        """The number a Zalo member would type for the button ``data`` (1 when unknown)."""
        chat = private_chat_id(m.id or 0)
        for o in reversed(self.messenger.sent):
            if o.chat_id == chat and o.buttons:
                found = [b.data for row in o.buttons for b in row]
                if data in found:
                    return found.index(data) + 1
        return 1

    async def press(self, m: Member, data: str, caption: str, group: bool = False) -> None:
        if m.id == self.secretary_id:
            self.effort.pressed(self._button_number(m, data))
        self.write(f"» {fmt_datetime(self.clock(), TZ)} · {m.full_name} bấm [{caption}]")
        self.app.handle(self._incoming(m, None, data, group))
        await self.app.sender.drain()

    async def run_until(self, when: datetime) -> None:
        """Advance simulated time hour by hour, sweeping and delivering on the way."""
        while self.clock.now < when:
            self.clock.now = min(self.clock.now + timedelta(hours=1), when)
            await self.tick()

    async def tick(self) -> None:
        """What CycleRunner.tick does, limited to the demo's cell."""
        with Session(self.app.engine) as s:
            cell = s.get(Organisation, self.cell.id if self.cell else None)
            materialise(s, self.app.settings, self.clock(), [cell] if cell else [])
            s.commit()
        sweep(self.app.engine, self.app.settings, self.clock())
        await self.app.sender.drain()

    # -- the month ------------------------------------------------------------------------
    async def play(self) -> dict[str, object]:
        cell, mem = self.setup()
        self.cell = cell
        sec = mem["Dương Văn Thành"]
        self.secretary_id = sec.id
        self.write(f"=== Mô phỏng một tháng sinh hoạt của {CELL} ===\n")
        await self.tick()
        with Session(self.app.engine) as s:
            meeting = s.exec(select(Meeting).where(Meeting.cell_id == cell.id)
                             .order_by(Meeting.scheduled_at)).first()
            assert meeting is not None
            mid, start = meeting.id, meeting.scheduled_at
        await self.say(sec, "/lichhop")
        await self.run_until(start - timedelta(hours=118))  # the chi ủy reminder
        # The chi ủy met and agreed the programme: its short minutes, from the reminder's
        # button. The programme is typed once: the agenda form follows and the chi ủy
        # minutes list its items; the agenda's Sổ tay link records the documents there;
        # presenters are named as members are ("Thành"), the bot writes the full name.
        await self.press(sec, f"hcu:{mid}", "Ghi kết quả họp chi ủy")
        for answer in ("Vừa họp xong", "Đủ tất cả", "1", "1"):  # 1: the programme button
            await self.say(sec, answer)
        for answer in ("Không", "Phòng họp tầng 3, Sở Tài chính",
                       "Quán triệt Nghị quyết Đại hội Đảng bộ tỉnh | Thành | "
                       "https://sotay.dangcongsan.vn/tai-lieu/nq-dai-hoi",
                       "Kiểm điểm tiến độ giải ngân vốn đầu tư công | Oanh",
                       "Xong", "1"):
            await self.say(sec, answer)
        await self.run_until(start - timedelta(hours=24))
        # Members answer the agenda post in the group (numbered replies on the console).
        for name in ("Hồ Đức Thắng", "Mai Thị Phương", "Phan Thị Thúy", "Châu Minh Tuấn",
                     "Lý Thị Kim Oanh"):
            await self.press(mem[name], f"rsvp:{mid}:y", "Có mặt", group=True)
        await self.press(mem["Châu Minh Tuấn"], f"rsvp:{mid}:n", "Vắng", group=True)
        await self.say(mem["Châu Minh Tuấn"], "Đi công tác Hà Nội")
        await self.run_until(start + timedelta(hours=2, minutes=30))
        # After the meeting: roll call with start/end times, then the score.
        await self.press(sec, f"rc:{mid}", "Điểm danh")
        for answer in ("1", "09:35", "4", "1 c, 7 k", "Đúng"):
            await self.say(sec, answer)
        await self.fees(sec)
        await self.minutes(sec, mid or 0)
        await self.press(sec, f"sc:{mid}", "Chấm điểm")
        # Chi ủy meeting, minutes, vote, Sổ tay: computed from the records, not asked.
        # The resolution's text: the conclusions the minutes hold, with one tap ("1").
        for answer in ("3 2", "5 14 2 1", "đủ", "1 2 1 1", "27", "1",
                       "3 | Hoàn thành báo cáo giải ngân quý IV | 20/12",
                       "4 | Rà soát hồ sơ thanh toán tồn đọng | 15/12", "Xong", "1"):
            await self.say(sec, answer)
        # The documents on Sổ tay complete "sent within 2 days": the score updates itself.
        await self.press(sec, f"sts:{mid}", "Đã đăng lên Sổ tay")  # the resolution's button
        await self.press(mem["Nguyễn Văn An"], f"cf:{mid}", "Xác nhận")
        await self.run_until(start + timedelta(days=4))
        await self.say(mem["Nguyễn Văn An"], "/tinhhinh")  # the committee's view
        summary = self.summary(mid or 0)
        self.write("\n=== Tổng kết tháng của chi bộ ===")
        summary["effort"] = self.effort
        summary["lines"] = [*summary["lines"], *self.effort.lines()]  # type: ignore[misc]
        for line in summary["lines"]:  # type: ignore[attr-defined]
            self.write(line)
        summary["documents"] = self.write_documents(mid or 0)
        return summary

    async def fees(self, sec: Member) -> None:
        """The month's party fees, collected at the meeting, recorded from the roll call's
        fee button."""
        await self.press(sec, "fe:2026-12", "Ghi đảng phí")
        await self.say(sec, "tất cả; 8 chưa")  # the usual amounts come from the member sheet

    async def minutes(self, sec: Member, mid: int) -> None:
        """The secretary records the minutes right after the meeting and confirms them."""
        # From the fee reply's button: the meeting is known, nothing to type to open it.
        await self.press(sec, f"bb:edit:{mid}", "Ghi biên bản")
        for answer in (
                "Xong", "1", "2",  # guests (the follower attended); chair, minute-taker
                "Thang: Đề nghị ưu tiên hồ sơ thanh toán các dự án chuyển tiếp, tránh dồn "
                "vào tháng 12.",
                "Phuong: Bộ phận thẩm định cam kết rút ngắn thời gian xử lý hồ sơ còn 5 ngày "
                "làm việc.",
                "Thuy: Xin ý kiến chi bộ về việc tham gia lớp trung cấp lý luận chính trị "
                "năm 2027.",
                "Thắng: Bổ sung: cần phối hợp với Kho bạc rà soát hồ sơ tồn đọng.",
                "Oanh: Thống nhất với dự thảo nghị quyết; đề nghị biểu dương đồng chí Phương.",
                "Xong",
                "Chi bộ quán triệt đầy đủ Nghị quyết Đại hội; mỗi đảng viên xây dựng kế hoạch "
                "hành động.",
                "Giải ngân vốn đầu tư công đạt 78% kế hoạch; phấn đấu đạt 95% trước 31/12.",
                "Chi bộ thống nhất các nhiệm vụ trọng tâm tháng 12.",
                "Tất cả tán thành", "1"):
            name, sep, words = answer.partition(": ")
            await self.say(sec, answer, content=words if sep and len(name) < 12 else "")

    def write_documents(self, meeting_id: int) -> list[Path]:
        """The month's final biên bản and nghị quyết, written next to the transcript."""
        from models.files import StoredFile
        from models.records import DocType, latest_revision

        out = self.out_dir
        out.mkdir(parents=True, exist_ok=True)
        written = []
        with Session(self.app.engine) as s:
            for doc_type in (DocType.MINUTES.value, DocType.RESOLUTION.value):
                rev = latest_revision(s, meeting_id, doc_type, final=True)
                f = s.get(StoredFile, rev.file_id) if rev else None
                if f is not None:
                    path = out / f.filename
                    path.write_bytes(f.data)
                    written.append(path)
        (out / "transcript.txt").write_text("\n".join(self.lines) + "\n", encoding="utf-8")
        self.write(f"\nBiên bản và nghị quyết của tháng đã ghi vào {out.resolve()}/: "
                   + ", ".join(p.name for p in written) + " (cùng bản ghi transcript.txt)")
        return written

    def summary(self, meeting_id: int) -> dict[str, object]:
        with Session(self.app.engine) as s:
            m = s.get(Meeting, meeting_id)
            assert m is not None
            rows = list(s.exec(select(Attendance).where(Attendance.meeting_id == meeting_id)))
            due = [a for a in rows if a.status not in (None, "exempted")]
            attended = [a for a in due if a.status in ("present", "late")]
            unexcused = [a for a in due if a.status == "unexcused"]
            score = s.exec(select(Score).where(Score.meeting_id == meeting_id,
                                               Score.kind == "cell",
                                               Score.is_current == True)).first()  # noqa: E712
            confirmed = s.exec(select(Score).where(Score.meeting_id == meeting_id,
                                                   Score.kind == "confirmed")).first()
            rate = len(attended) / len(due) if due else 0.0
            lines = [
                f"Buổi sinh hoạt: {fmt_datetime(m.scheduled_at, TZ)} — {label(m.status)}",
                f"Tỷ lệ dự họp: {len(attended)}/{len(due)} ({fmt_percent(rate)})",
                f"Vắng không lý do: {len(unexcused)}",
                f"Điểm chi bộ chấm: {fmt_number(score.total) if score else '—'} — "
                f"{label(score.rating) if score else '—'}",
                f"Điểm cấp trên xác nhận: {fmt_number(confirmed.total) if confirmed else '—'}",
            ]
            return {"status": m.status, "attended": len(attended), "due": len(due),
                    "unexcused": len(unexcused), "total": score.total if score else None,
                    "rating": score.rating if score else None,
                    "confirmed": confirmed.total if confirmed else None, "lines": lines}


async def run_demo(settings: Settings, keep: bool = False,
                   write: Callable[[str], None] = print,
                   out_dir: Path | None = None) -> dict[str, object]:
    if keep:
        return await Demo(settings, write, out_dir).play()
    with tempfile.TemporaryDirectory(prefix="chibot-demo-") as tmp:
        fresh = settings.model_copy(update={
            "data_dir": Path(tmp), "place": settings.place or "Hà Tĩnh",
            "database": settings.database.model_copy(update={"url": f"sqlite:///{tmp}/d.db"})})
        demo = Demo(fresh, write, out_dir)
        try:
            return await demo.play()
        finally:
            demo.app.close()
