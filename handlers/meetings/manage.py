"""Secretary's meeting stories: reschedule, cancel, add, rule."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import func, select

from handlers.core.context import Ctx
from handlers.core.labels import meeting_kind_label
from handlers.core.router import Where, Who, command
from handlers.forms import engine as forms
from handlers.forms.cellform import (
    CellForm,
    led_cell,
    meeting_label,
    parse_place,
    start_for_meeting,
)
from handlers.forms.cellform import actor_cell as actor_cell  # moved to cellform; old path kept
from handlers.forms.engine import Choice, Invalid, Step
from handlers.forms.validators import parse_datetime, parse_number, parse_text, parse_time
from handlers.meetings.cycle import materialise, plan_steps, regular_time, replan
from handlers.meetings.schedule_rules import check_rule, period_of
from models.audit import audit
from models.i18n import N_, _, fmt_datetime, use_locale
from models.meeting import Meeting, MeetingKind, MeetingStatus, drop_meeting_files, upcoming
from models.member import due_members
from models.org import Organisation

Data = dict[str, Any]


# -- reschedule ------------------------------------------------------------------------
def _future(ctx: Ctx, data: Data, text: str) -> datetime:
    cell = ctx.session.get(Organisation, data["cell_id"])
    tz = cell.timezone if cell else ctx.settings.timezone
    local = parse_datetime(text, ctx.now().astimezone(ZoneInfo(tz)).date())
    when = local.replace(tzinfo=ZoneInfo(tz))
    if when <= ctx.now():
        raise Invalid(_("Thời điểm này đã qua. Đồng chí chọn thời điểm trong tương lai."))
    return when


class RescheduleForm(CellForm):
    kind = "reschedule"

    def steps(self, ctx: Ctx, data: Data) -> list[Step]:
        return [
            self.meeting_step(),
            Step("when", lambda c, d: _("Thời gian mới (ngày giờ, ví dụ 05/12/2026 07:30):"),
                 parse=lambda c, d, t: _future(c, d, t).isoformat()),
            Step("reason", lambda c, d: _("Lý do đổi lịch (sẽ thông báo tới đảng viên):"),
                 parse=lambda c, d, t: parse_text(t, max_len=300)),
        ]

    def summary(self, ctx: Ctx, data: Data) -> str:
        m = self.meeting(ctx, data)
        when = datetime.fromisoformat(data["when"])
        return _("Đổi lịch {meeting} sang {when}.\nLý do: {reason}").format(
            meeting=meeting_label(m) if m else "?",
            when=fmt_datetime(when, m.timezone if m else ctx.settings.timezone),
            reason=data["reason"])

    def finish(self, ctx: Ctx, data: Data) -> None:
        s = ctx.session
        m = self.meeting(ctx, data)
        cell = self.cell(ctx, data)
        if m is None or cell is None or m.status != MeetingStatus.PLANNED.value:
            ctx.reply(_("Buổi sinh hoạt này không còn mở để đổi lịch."))
            return
        old = m.scheduled_at
        m.scheduled_at = datetime.fromisoformat(data["when"])
        m.manual_time = True
        m.updated_at = ctx.now()
        replan(s, m, ctx.settings.cycle)
        audit(s, "meeting.rescheduled", "meeting", m.id,
              ctx.actor.member.id if ctx.actor.member else None, old=old.isoformat(),
              new=m.scheduled_at.isoformat(), reason=data["reason"])
        announce(ctx, m, cell, f"resched:{m.id}:{m.revision}", lambda: _(
            "📅 ĐỔI LỊCH SINH HOẠT: {cell}\nTừ {old} sang {new}.\nLý do: {reason}").format(
            cell=cell.name, old=fmt_datetime(old, m.timezone),
            new=fmt_datetime(m.scheduled_at, m.timezone), reason=data["reason"]))
        ctx.reply(_("Đã đổi lịch và thông báo tới chi bộ; các lời nhắc được đặt lại theo giờ "
                    "mới."))


def announce(ctx: Ctx, m: Meeting, cell: Organisation, key: str, text_fn) -> None:  # type: ignore[no-untyped-def]
    """To the cell's groups; to each member privately when it has none."""
    from handlers.core.notify import send_group, send_private

    with use_locale(cell.locale):
        sent = send_group(ctx.session, cell.id or 0, text_fn(), key, now=ctx.now())
    if not sent:
        for member in due_members(ctx.session, cell_id=cell.id or 0):
            with use_locale(member.locale):
                send_private(ctx.session, member, text_fn(), f"{key}:p{member.id}",
                             now=ctx.now())


forms.register(RescheduleForm())


@command("doilich", "reschedule", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Đổi lịch một buổi sinh hoạt (Bí thư)"))
def reschedule(ctx: Ctx, args: list[str], rest: str) -> None:
    start_for_meeting(ctx, "reschedule", args, command="doilich")


# -- cancel ----------------------------------------------------------------------------
class CancelForm(CellForm):
    kind = "cancel_meeting"

    def steps(self, ctx: Ctx, data: Data) -> list[Step]:
        return [
            self.meeting_step(),
            Step("reason", lambda c, d: _("Lý do hủy buổi sinh hoạt (sẽ thông báo tới đảng "
                                          "viên):"),
                 parse=lambda c, d, t: parse_text(t, max_len=300)),
        ]

    def summary(self, ctx: Ctx, data: Data) -> str:
        m = self.meeting(ctx, data)
        return _("Hủy {meeting}.\nLý do: {reason}").format(
            meeting=meeting_label(m) if m else "?", reason=data["reason"])

    def finish(self, ctx: Ctx, data: Data) -> None:
        from handlers.meetings.cycle import cancel_steps

        m = self.meeting(ctx, data)
        cell = self.cell(ctx, data)
        if m is None or cell is None or m.status != MeetingStatus.PLANNED.value:
            ctx.reply(_("Buổi sinh hoạt này không còn mở để hủy."))
            return
        m.status = MeetingStatus.CANCELLED.value
        m.cancel_reason = data["reason"]
        m.updated_at = ctx.now()
        ctx.session.add(m)
        cancel_steps(ctx.session, m)
        drop_meeting_files(ctx.session, m)
        audit(ctx.session, "meeting.cancelled", "meeting", m.id,
              ctx.actor.member.id if ctx.actor.member else None, reason=data["reason"])
        announce(ctx, m, cell, f"cancel:{m.id}", lambda: _(
            "❌ HỦY BUỔI SINH HOẠT: {cell}, {when}.\nLý do: {reason}").format(
            cell=cell.name, when=fmt_datetime(m.scheduled_at, m.timezone),
            reason=data["reason"]))
        ctx.reply(_("Đã hủy buổi sinh hoạt và thông báo tới chi bộ."))


forms.register(CancelForm())


@command("huyhop", "cancelmeeting", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Hủy một buổi sinh hoạt, có lý do (Bí thư)"))
def cancel_meeting(ctx: Ctx, args: list[str], rest: str) -> None:
    start_for_meeting(ctx, "cancel_meeting", args, command="huyhop")


# -- add a thematic / extraordinary / committee meeting -------------------------------------
class AddMeetingForm(CellForm):
    kind = "add_meeting"

    def steps(self, ctx: Ctx, data: Data) -> list[Step]:
        kinds = [MeetingKind.THEMATIC, MeetingKind.EXTRAORDINARY, MeetingKind.COMMITTEE,
                 MeetingKind.FORUM]
        return [
            Step("kind", lambda c, d: _("Loại buổi họp:"),
                 choices=lambda c, d: [Choice(k.value, meeting_kind_label(k.value))
                                       for k in kinds]),
            Step("when", lambda c, d: _("Thời gian (ngày giờ, ví dụ 15/12/2026 14:00):"),
                 parse=lambda c, d, t: _future(c, d, t).isoformat()),
            Step("topic", lambda c, d: _("Chủ đề / nội dung chính:"),
                 parse=lambda c, d, t: parse_text(t, max_len=300),
                 optional=False),
            Step("place", lambda c, d: _("Địa điểm, hoặc đường link nếu họp trực tuyến:"),
                 parse=parse_place, optional=True),
        ]

    def summary(self, ctx: Ctx, data: Data) -> str:
        cell = self.cell(ctx, data)
        when = datetime.fromisoformat(data["when"])
        return _("Thêm {kind}: {topic}\nThời gian: {when}\nĐịa điểm: {place}").format(
            kind=meeting_kind_label(data["kind"]), topic=data["topic"],
            when=fmt_datetime(when, cell.timezone if cell else "UTC"),
            place=data.get("place") or "—")

    def finish(self, ctx: Ctx, data: Data) -> None:
        s = ctx.session
        cell = self.cell(ctx, data)
        assert cell is not None
        when = datetime.fromisoformat(data["when"])
        period = period_of(when, cell.timezone)
        seq = (s.exec(select(func.max(Meeting.seq)).where(
            Meeting.cell_id == cell.id, Meeting.period == period,
            Meeting.kind == data["kind"])).one() or 0) + 1
        place = data.get("place")
        online = place if place and place.lower().startswith(("http://", "https://")) else None
        m = Meeting(cell_id=cell.id or 0, kind=data["kind"], seq=seq, period=period,
                    scheduled_at=when, timezone=cell.timezone, topic=data["topic"],
                    place=None if online else place, online_link=online, manual_time=True,
                    created_at=ctx.now(), updated_at=ctx.now(),
                    duration_min=120 if data["kind"] == MeetingKind.THEMATIC.value else 90)
        s.add(m)
        s.flush()
        plan_steps(s, m, ctx.settings.cycle)
        audit(s, "meeting.added", "meeting", m.id,
              ctx.actor.member.id if ctx.actor.member else None, kind=m.kind)
        ctx.reply(_("Đã thêm {kind} lúc {when}. Bot sẽ nhắc lịch và đăng thông báo như buổi "
                    "thường kỳ.").format(kind=meeting_kind_label(m.kind),
                                         when=fmt_datetime(when, cell.timezone)))


forms.register(AddMeetingForm())


@command("themhop", "addmeeting", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Thêm buổi sinh hoạt chuyên đề / đột xuất / họp chi ủy (Bí thư)"))
def add_meeting(ctx: Ctx, args: list[str], rest: str) -> None:
    cell = led_cell(ctx)
    if cell is None:
        ctx.deny("not a cell leader")
        return
    forms.start(ctx, "add_meeting", {"cell_id": cell.id})


# -- the cell's rule ---------------------------------------------------------------------------
class RuleForm(CellForm):
    kind = "meeting_rule"

    def steps(self, ctx: Ctx, data: Data) -> list[Step]:
        return [
            Step("rule", lambda c, d: _("Chi bộ sinh hoạt thường kỳ vào:"),
                 choices=lambda c, d: [Choice("day", _("Một ngày cố định trong tháng")),
                                       Choice("first_workday", _("Ngày làm việc đầu tiên")),
                                       Choice("first_monday",
                                              _("Thứ Hai đầu tiên, sau lễ chào cờ"))]),
            Step("day", lambda c, d: _("Ngày mấy trong tháng (1–28)? Rơi vào cuối tuần thì "
                                       "chuyển sang ngày làm việc kế tiếp."),
                 parse=lambda c, d, t: parse_number(t, 1, 28, integer=True),
                 when=lambda c, d: d.get("rule") == "day", sub=True),
            Step("time", lambda c, d: _("Giờ bắt đầu (ví dụ 07:30):"),
                 parse=lambda c, d, t: parse_time(t).strftime("%H:%M")),
        ]

    def _rule(self, data: Data) -> str:
        return f"day:{data['day']}" if data["rule"] == "day" else data["rule"]

    def summary(self, ctx: Ctx, data: Data) -> str:
        names = {"first_workday": _("ngày làm việc đầu tiên của tháng"),
                 "first_monday": _("thứ Hai đầu tiên của tháng, sau lễ chào cờ")}
        what = names.get(data["rule"]) or _("ngày {d} hằng tháng").format(d=data.get("day"))
        return _("Sinh hoạt thường kỳ vào {what}, lúc {time}. Các buổi thường kỳ sắp tới "
                 "chưa đổi lịch tay sẽ được chuyển theo quy tắc mới.").format(
            what=what, time=data["time"])

    def finish(self, ctx: Ctx, data: Data) -> None:
        s = ctx.session
        cell = self.cell(ctx, data)
        assert cell is not None
        cell.meeting_rule = check_rule(self._rule(data))
        cell.meeting_time = data["time"]
        s.add(cell)
        moved = 0
        for m in upcoming(s, cell_id=cell.id or 0, now=ctx.now(), limit=24):
            if m.kind != MeetingKind.REGULAR.value or m.manual_time \
                    or m.status != MeetingStatus.PLANNED.value:
                continue
            when = regular_time(cell, ctx.settings.cycle, int(m.period[:4]), int(m.period[5:]))
            if when != m.scheduled_at and when > ctx.now():
                m.scheduled_at = when
                replan(s, m, ctx.settings.cycle)
                moved += 1
        audit(s, "cell.rule_set", "organisation", cell.id,
              ctx.actor.member.id if ctx.actor.member else None, rule=cell.meeting_rule,
              time=cell.meeting_time)
        materialise(s, ctx.settings, ctx.now(), [cell])
        ctx.reply(_("Đã lưu quy tắc; {n} buổi sắp tới được chuyển lịch.").format(n=moved))


forms.register(RuleForm())


@command("quytac", "rule", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Đặt ngày, giờ sinh hoạt thường kỳ của chi bộ (Bí thư)"))
def set_rule(ctx: Ctx, args: list[str], rest: str) -> None:
    cell = led_cell(ctx)
    if cell is None:
        ctx.deny("not a cell leader")
        return
    forms.start(ctx, "meeting_rule", {"cell_id": cell.id})
