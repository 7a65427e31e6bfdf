"""The roll call after a meeting, quorum and the absence flags."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from handlers.attendance.rolltaps import roll_keyboard
from handlers.attendance.rollwords import apply_roll_text
from handlers.attendance.rsvp import attendance_row
from handlers.attendance.rsvp import record_rsvp as record_rsvp  # moved to rsvp; old path kept
from handlers.core.context import Ctx, buttons
from handlers.core.router import Where, Who, callback, command
from handlers.forms import engine as forms
from handlers.forms.cellform import CellForm, led_cell, meeting_label
from handlers.forms.engine import Again, Choice, Invalid, Step
from handlers.forms.named import choose, meeting_ref, recent, step_answer
from handlers.forms.validators import parse_number, parse_time
from handlers.year import flags as yearflags
from models.attendance import ATTENDED, Attendance, Presence, Rsvp
from models.audit import audit
from models.i18n import N_, _, fmt_percent
from models.meeting import Meeting, MeetingStatus
from models.member import Member, due_members
from models.org import Organisation
from models.records import opinions_of
from models.text import fold

log = logging.getLogger(__name__)
Data = dict[str, Any]
UNKNOWN = "?"


# -- roll call ------------------------------------------------------------------------------
def rollcall_candidates(s: Session, cell_id: int, now: datetime) -> list[Meeting]:
    """Planned meetings that have started (or start within the hour), newest first."""
    return list(s.exec(select(Meeting).where(
        Meeting.cell_id == cell_id, Meeting.status == MeetingStatus.PLANNED.value,
        Meeting.scheduled_at <= now + timedelta(hours=1),
        Meeting.scheduled_at >= now - timedelta(days=14)).order_by(Meeting.scheduled_at.desc())))




def _local_time(ctx: Ctx, meeting: Meeting, text: str) -> str:
    t = parse_time(text)
    local = meeting.scheduled_at.astimezone(ZoneInfo(meeting.timezone))
    return local.replace(hour=t.hour, minute=t.minute).isoformat()


class RollCallForm(CellForm):
    """Times, the number of speakers, then the list: its "Đúng" saves the roll call (the
    list step shows the times and counts, so it is the one confirmation)."""

    kind = "rollcall"
    confirm = False

    def _members(self, ctx: Ctx, data: Data) -> list[Member]:
        return due_members(ctx.session, cell_id=data["cell_id"])

    def prefill(self, ctx: Ctx, meeting: Meeting) -> dict[str, list[str | None]]:
        marks: dict[str, list[str | None]] = {}
        rows = {a.member_id: a for a in ctx.session.exec(
            select(Attendance).where(Attendance.meeting_id == meeting.id))}
        for m in due_members(ctx.session, cell_id=meeting.cell_id):
            a = rows.get(m.id or 0)
            if a and a.rsvp == Rsvp.YES.value:
                marks[str(m.id)] = [Presence.PRESENT.value, None]
            elif a and a.rsvp == Rsvp.NO.value and a.rsvp_reason:
                marks[str(m.id)] = [Presence.EXCUSED.value, a.rsvp_reason]
            else:
                marks[str(m.id)] = [UNKNOWN, a.rsvp_reason if a else None]
        return marks

    def store(self, ctx: Ctx, data: Data, step: Step, value: Any) -> None:
        if step.name == "roll":
            self.check_complete(data)
            attended = sum(1 for st, _r in data.get("marks", {}).values() if st in ATTENDED)
            if data.get("speakers") is not None and data["speakers"] > attended:
                raise Invalid(_("Số người phát biểu ({sp}) nhiều hơn số có mặt ({p}). Đồng "
                                "chí sửa danh sách, hoặc gõ “quay lại” để sửa số người phát "
                                "biểu.").format(sp=data["speakers"], p=attended))
        data[step.name] = value
        if step.name == "meeting":
            meeting = ctx.session.get(Meeting, value)
            if meeting is not None:
                data["marks"] = self.prefill(ctx, meeting)

    def roll_text(self, ctx: Ctx, data: Data) -> str:
        """The whole list once; after an edit only the changed lines and the counts (the
        list is long: "ds" shows it again)."""
        members = self._members(ctx, data)
        marks = data.get("marks", {})
        changed = data.get("_changed")

        def line(i: int, m: Member) -> str:
            status, reason = marks.get(str(m.id), [UNKNOWN, None])
            mark = {"present": "c", "late": "m", "excused": "v", "unexcused": "k"}.get(
                status or "", "?")
            return f"{i}. [{mark}] {m.full_name}" + (f" — {reason}" if reason else "")

        if changed is not None:
            c = self._counts(data)
            lines = [line(i, members[i - 1]) for i in changed if i <= len(members)]
            lines.append(_("Có mặt {p}, đến muộn {late}, vắng có lý do {ex}, vắng không lý do "
                           "{un}, chưa rõ {unk}. Gửi “ds” để xem lại cả danh sách.").format(
                p=c["present"], late=c["late"], ex=c["excused"], un=c["unexcused"],
                unk=c.get(UNKNOWN, 0)))
            lines.append(_("Sửa tiếp (ví dụ “6 vắng đi học”, “7 muộn”) hoặc bấm Đúng để ghi "
                           "điểm danh."))
            return "\n".join(lines)
        lines = [_("Danh sách điểm danh (c = có mặt, m = đến muộn, v = vắng có lý do, "
                   "k = vắng không lý do, ? = chưa rõ):")]
        lines += [line(i, m) for i, m in enumerate(members, 1)]
        lines.append(_("Sửa bằng cách gửi số thứ tự và có mặt / vắng [lý do] / muộn, ví dụ "
                       "“6 vắng đi học, 7 muộn”, “tất cả có mặt”, “tất cả trừ 3, 7”; hoặc mã: "
                       "“3 v ốm, 5 k, 7-9 c”, “* c” cho những người chưa rõ. Bấm Đúng để ghi "
                       "điểm danh khi danh sách đã chính xác."))
        return "\n".join(lines)

    def parse_roll(self, ctx: Ctx, data: Data, text: str) -> None:
        """Apply what the secretary typed (codes or words, see rollwords); the items not
        understood are named so only they are typed again."""
        if fold(text) in ("ds", "danh sach", "list"):
            data.pop("_changed", None)
            raise Again("")
        edit = apply_roll_text(text, self._members(ctx, data), dict(data.get("marks", {})))
        if edit.failed:
            log.info("roll call: items not understood: %s", edit.failed)
        data["marks"] = edit.marks
        data["_changed"] = sorted(edit.lines)
        said = [_("Đã sửa {n} dòng.").format(n=len(edit.lines))] if edit.lines else []
        if edit.failed:
            said += ["⚠️ " + _("Không hiểu các mục sau, đồng chí gửi lại riêng từng mục:"),
                     *edit.failed,
                     _("Ví dụ: 6 vắng đi học, 7 muộn, 3 có mặt, tất cả trừ 3, 7.")]
        raise Again("\n".join(said))

    def steps(self, ctx: Ctx, data: Data) -> list[Step]:
        def candidates(c: Ctx, d: Data) -> list[Choice]:
            return [Choice(m.id, meeting_label(m))
                    for m in rollcall_candidates(c.session, d["cell_id"], c.now())]

        def meeting(c: Ctx, d: Data) -> Meeting:
            m = self.meeting(c, d)
            assert m is not None
            return m

        def end_after_start(c: Ctx, d: Data, t: str) -> str:
            end = _local_time(c, meeting(c, d), t)
            if end <= d["started"]:
                raise Invalid(_("Giờ kết thúc phải sau giờ bắt đầu."))
            return end

        def accept(c: Ctx, d: Data) -> list[Choice]:
            return [Choice("ok", _("✅ Đúng, ghi điểm danh"))]

        def roll_prompt(c: Ctx, d: Data) -> str:
            sp = d.get("speakers", speakers_from_minutes(c.session, d.get("meeting")))
            return _("Bắt đầu {start}, kết thúc {end}; số người phát biểu: {sp}.").format(
                start=d["started"][11:16], end=d["ended"][11:16], sp=sp) + "\n" + \
                self.roll_text(c, d)

        return [
            Step("meeting", lambda c, d: _("Điểm danh buổi sinh hoạt nào?"), choices=candidates,
                 parse=lambda c, d, t: step_answer(c, d["cell_id"], t,
                                                   [ch.value for ch in candidates(c, d)]),
                 when=lambda c, d: not d.get("meeting_fixed")),
            Step("started", lambda c, d: _("Giờ bắt đầu thực tế (ví dụ 07:40):"),
                 choices=lambda c, d: [Choice(meeting(c, d).scheduled_at.astimezone(
                     ZoneInfo(meeting(c, d).timezone)).isoformat(), _("Đúng giờ trong lịch"))],
                 parse=lambda c, d, t: _local_time(c, meeting(c, d), t)),
            Step("ended", lambda c, d: _("Giờ kết thúc (ví dụ 09:30):"),
                 parse=end_after_start),
            # Typed only when no opinions were captured yet (/ghibienban): otherwise the
            # number of distinct speakers comes from the minutes.
            Step("speakers", lambda c, d: _("Số đảng viên đã phát biểu ý kiến (0–{n}):").format(
                n=len(d.get("marks", {}))),
                 parse=lambda c, d, t: parse_number(t, 0, len(d.get("marks", {})), integer=True),
                 when=lambda c, d: not speakers_from_minutes(c.session, d.get("meeting"))),
            Step("roll", roll_prompt, choices=accept, parse=self.parse_roll,
                 keyboard=lambda c, d, fid: roll_keyboard(c, d, fid, self._members(c, d))),
        ]

    def check_complete(self, data: Data) -> None:
        """"Đúng" is refused while any member is still unknown."""
        unknown = [k for k, (st, _r) in data.get("marks", {}).items() if st == UNKNOWN]
        if unknown:
            raise Invalid(_("Còn {n} đồng chí chưa xác định (dấu ?). Đồng chí gửi mã cho họ, "
                            "ví dụ “* c”.").format(n=len(unknown)))

    def _counts(self, data: Data) -> dict[str, int]:
        counts = {p.value: 0 for p in Presence}
        for st, _r in data.get("marks", {}).values():
            counts[st] = counts.get(st, 0) + 1
        return counts

    def summary(self, ctx: Ctx, data: Data) -> str:
        c = self._counts(data)
        due = len(data.get("marks", {}))
        attended = c["present"] + c["late"]
        lines = [
            _("Bắt đầu {start}, kết thúc {end}.").format(start=data["started"][11:16],
                                                         end=data["ended"][11:16]),
            _("Phải dự: {due}; có mặt: {p} (muộn {late}); vắng có lý do: {ex}; vắng không lý "
              "do: {un}.").format(due=due, p=attended, late=c["late"], ex=c["excused"],
                                  un=c["unexcused"]),
            _("Tỷ lệ dự họp: {rate}. Số người phát biểu: {sp}.").format(
                rate=fmt_percent(attended / due if due else 0),
                sp=data.get("speakers", speakers_from_minutes(ctx.session,
                                                              data.get("meeting")))),
        ]
        if not quorum(attended, due):
            lines.append("⚠️ " + _("Số đảng viên có mặt chưa quá một nửa số phải dự; buổi sinh "
                                  "hoạt không đủ điều kiện biểu quyết."))
        return "\n".join(lines)

    def finish(self, ctx: Ctx, data: Data) -> None:
        s = ctx.session
        m = self.meeting(ctx, data)
        if m is None or m.status != MeetingStatus.PLANNED.value:
            ctx.reply(_("Buổi sinh hoạt này đã được điểm danh trước đó."))
            return
        marks: dict[str, list[str | None]] = data["marks"]
        for mem in s.exec(select(Member).where(Member.cell_id == m.cell_id,
                                               Member.active == True)):  # noqa: E712
            row = attendance_row(s, m.id or 0, mem.id or 0)
            status, reason = marks.get(str(mem.id), [Presence.EXEMPTED.value,
                                                     mem.exempt_reason])
            row.status, row.reason, row.recorded_at = status, reason, ctx.now()
            s.add(row)
        counts = self._counts(data)
        attended = counts["present"] + counts["late"]
        m.started_at = datetime.fromisoformat(data["started"])
        m.ended_at = datetime.fromisoformat(data["ended"])
        m.speakers_count = data.get("speakers", m.speakers_count)
        held = quorum(attended, len(marks))
        m.status = MeetingStatus.HELD.value if held else MeetingStatus.NOT_HELD.value
        m.updated_at = ctx.now()
        s.add(m)
        s.flush()
        audit(s, "meeting.roll_call", "meeting", m.id,
              ctx.actor.member.id if ctx.actor.member else None, attended=attended,
              due=len(marks), status=m.status)
        warnings = absence_warnings(s, m, marks, ctx.now())
        if held:
            ctx.reply("\n".join([_("Đã ghi điểm danh. Buổi sinh hoạt hợp lệ."),
                                 *self.summary(ctx, data).splitlines(), *warnings]),
                      buttons([(_("📝 Chấm điểm ngay"), f"sc:{m.id}"),
                               (_("🖊 Ghi biên bản"), f"bb:edit:{m.id}")],
                              [(_("💰 Ghi đảng phí"), f"fe:{m.period}")]))
        else:
            ctx.reply("\n".join([_("Đã ghi: buổi sinh hoạt KHÔNG ĐỦ ĐIỀU KIỆN."),
                                 *self.summary(ctx, data).splitlines(),
                                _("Đề nghị chi bộ tổ chức lại (/themhop)."), *warnings]))


def speakers_from_minutes(s: Session, meeting_id: int | None) -> int:
    """Distinct members who spoke, from the opinions captured in the minutes (0: none)."""
    return len({o.member_id for o in opinions_of(s, meeting_id or 0) if o.member_id})


def quorum(attended: int, due: int) -> bool:
    """Điều lệ Điều 9: more than half of the members due to attend."""
    return due > 0 and attended * 2 > due


def absence_warnings(s: Session, meeting: Meeting, marks: dict[str, list[str | None]],
                     now: datetime) -> list[str]:
    """Điều 8 lines for the secretary (private chat): only unexcused absences count; the
    member reaching 2 is told privately (handlers/yearflags.py)."""
    cell = s.get(Organisation, meeting.cell_id)
    unexcused = [int(mid) for mid, (status, _r) in marks.items()
                 if status == Presence.UNEXCUSED.value]
    return yearflags.rollcall_warnings(s, cell, meeting.period, unexcused, now) \
        if cell is not None else []


forms.register(RollCallForm())


def _start_rollcall(ctx: Ctx, named: str) -> None:
    """Roll call of the meeting ``named`` ("12/2026", a button's id), or of the one due."""
    cell = led_cell(ctx)
    if cell is None:
        ctx.deny("not a cell leader")
        return
    data: Data = {"cell_id": cell.id}
    due = rollcall_candidates(ctx.session, cell.id or 0, ctx.now())
    if named.strip():
        picked = choose(ctx, [cell.id or 0], named, "diemdanh", cell.timezone, default=due)
        if picked is None:
            return
        m = picked[0]
        if m.status != MeetingStatus.PLANNED.value:
            _already(ctx, m)
            return
        data.update(meeting=m.id, meeting_fixed=True,
                    marks=RollCallForm().prefill(ctx, m))
    elif not due:
        done = recent(ctx, [cell.id or 0], days_back=14, days_ahead=0,
                      statuses=(MeetingStatus.HELD.value, MeetingStatus.NOT_HELD.value))
        if done:
            _already(ctx, done[0])
        else:
            ctx.reply(_("Chưa có buổi sinh hoạt nào đến giờ để điểm danh."))
        return
    forms.start_private(ctx, "rollcall", data)


def _already(ctx: Ctx, m: Meeting) -> None:
    """The meeting was roll-called: say so, and what comes next (not "none has started")."""
    ctx.reply(_("{meeting} đã được điểm danh. Việc tiếp theo: chấm điểm (/chamdiem {ref}) "
                "hoặc ghi biên bản (/ghibienban).").format(meeting=meeting_label(m),
                                                           ref=meeting_ref(m)))


@command("diemdanh", "rollcall", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Ghi giờ họp và điểm danh sau buổi sinh hoạt (Bí thư)"))
def rollcall(ctx: Ctx, args: list[str], rest: str) -> None:
    _start_rollcall(ctx, rest)


@callback("rc", who=Who.LINKED)
def rollcall_button(ctx: Ctx, parts: list[str]) -> None:
    _start_rollcall(ctx, f"#{parts[0]}" if len(parts) == 1 and parts[0].isdigit() else "#0")
