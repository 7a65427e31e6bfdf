"""Secretary's meeting stories: schedule view, agenda, reschedule, cancel, add, rule."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import func, select

from bot.i18n import N_, _, fmt_datetime, use_locale
from handlers import forms
from handlers.access import can_manage_cell, can_read_cell, led_cells
from handlers.agenda import agenda_text, when_where
from handlers.context import Ctx
from handlers.cycle import materialise, plan_steps, regular_time, replan
from handlers.forms import Choice, Form, Invalid, Step
from handlers.labels import label, meeting_kind_label
from handlers.reminders import has_thematic, post_agenda
from handlers.router import Where, Who, callback, command
from handlers.schedule_rules import check_rule, period_of
from handlers.validators import parse_datetime, parse_number, parse_text, parse_time
from models.audit import audit
from models.files import StoredFile
from models.meeting import AgendaItem, Meeting, MeetingKind, MeetingStatus, agenda_of, upcoming
from models.member import due_members
from models.org import Organisation

Data = dict[str, Any]


def actor_cell(ctx: Ctx) -> Organisation | None:
    """The cell the update concerns: the bound group's, else the member's own."""
    if ctx.in_group:
        return ctx.bound_cell()
    m = ctx.actor.member
    return ctx.session.get(Organisation, m.cell_id) if m and m.cell_id else None


def led_cell(ctx: Ctx) -> Organisation | None:
    cells = led_cells(ctx.actor)
    return ctx.session.get(Organisation, cells[0]) if cells else None


def meeting_label(m: Meeting) -> str:
    return f"{meeting_kind_label(m.kind)} — {fmt_datetime(m.scheduled_at, m.timezone)}"


class CellForm(Form):
    """A form acting for one cell: only its secretary/deputy or an officer above it."""

    def cell(self, ctx: Ctx, data: Data) -> Organisation | None:
        return ctx.session.get(Organisation, data.get("cell_id"))

    def authorised(self, ctx: Ctx, data: Data) -> bool:
        cell = self.cell(ctx, data)
        return cell is not None and can_manage_cell(ctx.session, ctx.actor, cell)

    def meeting(self, ctx: Ctx, data: Data) -> Meeting | None:
        m = ctx.session.get(Meeting, data.get("meeting")) if data.get("meeting") else None
        return m if m is not None and m.cell_id == data.get("cell_id") else None

    def meeting_step(self) -> Step:
        def choices(c: Ctx, d: Data) -> list[Choice]:
            return [Choice(m.id, meeting_label(m))
                    for m in upcoming(c.session, cell_id=d["cell_id"], now=c.now())]

        return Step("meeting", lambda c, d: _("Chọn buổi sinh hoạt:"), choices=choices,
                    when=lambda c, d: not d.get("meeting_fixed"))


def _start_for_meeting(ctx: Ctx, kind: str, args: list[str], extra: Data | None = None) -> None:
    cell = led_cell(ctx)
    if cell is None:
        ctx.deny("not a cell leader")
        return
    data: Data = {"cell_id": cell.id, **(extra or {})}
    if args:
        m = ctx.by_id(Meeting, args[0])
        if m is None or m.cell_id != cell.id:
            ctx.reply(_("Không tìm thấy buổi sinh hoạt số {n} của chi bộ.").format(n=args[0]))
            return
        data.update(meeting=m.id, meeting_fixed=True)
    elif not upcoming(ctx.session, cell_id=cell.id or 0, now=ctx.now()):
        ctx.reply(_("Chi bộ chưa có buổi sinh hoạt nào sắp tới."))
        return
    forms.start(ctx, kind, data)


# -- schedule view -------------------------------------------------------------------
@command("lichhop", "schedule", who=Who.LINKED, where=Where.ANY,
         summary=N_("Lịch sinh hoạt sắp tới của chi bộ"))
def schedule(ctx: Ctx, args: list[str], rest: str) -> None:
    cell = actor_cell(ctx)
    if cell is None or not can_read_cell(ctx.session, ctx.actor, cell):
        ctx.deny("no cell")
        return
    materialise(ctx.session, ctx.settings, ctx.now(), [cell])
    meetings = upcoming(ctx.session, cell_id=cell.id or 0, now=ctx.now())
    lines = [_("Lịch sinh hoạt của {cell}:").format(cell=cell.name)]
    for m in meetings:
        lines.append(f"• [{m.id}] {meeting_label(m)} ({label(m.status)})")
        lines += ["   " + x for x in when_where(m)[1:]]
        if m.topic:
            lines.append("   " + _("Chuyên đề: {topic}").format(topic=m.topic))
    if not meetings:
        lines.append(_("Chưa có buổi nào được lên lịch."))
    period = period_of(ctx.now(), cell.timezone)
    if not has_thematic(ctx.session, cell.id or 0, period):
        lines.append(_("⚠️ Quý này chi bộ chưa có buổi sinh hoạt chuyên đề."))
    ctx.reply("\n".join(lines))


# -- agenda ----------------------------------------------------------------------------
def _parse_item(ctx: Ctx, data: Data, text: str) -> dict[str, str | int | None]:
    """"Title | Presenter | link" as text, or a file whose caption is "Title | Presenter"
    (no caption: the file name is the title). The file is stored at once, so it survives
    a restart before the agenda is confirmed."""
    att = ctx.incoming.attachment
    parts = [p.strip() for p in text.split("|")]
    if len(parts) > (2 if att else 3):
        raise Invalid(_("Mỗi nội dung gồm tối đa 3 phần: Tiêu đề | Người trình bày | Tài liệu.")
                      if not att else _("Chú thích của tệp gồm tối đa 2 phần: Tiêu đề | Người "
                                        "trình bày."))
    if att is not None and not parts[0]:
        parts[0] = att.filename.rsplit(".", 1)[0][:300] or att.filename[:300]
    title = parse_text(parts[0], max_len=300)
    presenter = parse_text(parts[1], max_len=120) if len(parts) > 1 and parts[1] else None
    if att is None:
        doc = parse_text(parts[2], max_len=500) if len(parts) > 2 and parts[2] else None
        return {"title": title, "presenter": presenter, "document": doc}
    stored = StoredFile(filename=att.filename[:200], size=len(att.data), data=att.data,
                        uploaded_by=ctx.actor.member.id if ctx.actor.member else None,
                        created_at=ctx.now())
    ctx.session.add(stored)
    ctx.session.flush()
    return {"title": title, "presenter": presenter, "document": stored.filename,
            "file": stored.id}


def _parse_place(ctx: Ctx, data: Data, text: str) -> str:
    return parse_text(text, max_len=300)


class AgendaForm(CellForm):
    kind = "agenda"

    def steps(self, ctx: Ctx, data: Data) -> list[Step]:
        def is_regular(c: Ctx, d: Data) -> bool:
            m = self.meeting(c, d)
            return m is not None and m.kind == MeetingKind.REGULAR.value

        def needs_topic(c: Ctx, d: Data) -> bool:
            m = self.meeting(c, d)
            return m is not None and (m.kind == MeetingKind.THEMATIC.value or d.get("thematic"))

        return [
            self.meeting_step(),
            Step("thematic", lambda c, d: _("Buổi này có kết hợp sinh hoạt chuyên đề không?"),
                 choices=lambda c, d: [Choice(True, _("Có")), Choice(False, _("Không"))],
                 when=is_regular, per_row=2),
            Step("topic", lambda c, d: _("Tên chuyên đề:"),
                 parse=lambda c, d, t: parse_text(t, max_len=300), when=needs_topic),
            Step("place", lambda c, d: _("Địa điểm, hoặc đường link nếu họp trực tuyến:"),
                 parse=_parse_place, optional=True),
            Step("items", lambda c, d: _(
                "Nội dung thứ {n}: gửi theo dạng Tiêu đề | Người trình bày | Link tài liệu "
                "(chỉ tiêu đề là bắt buộc), hoặc gửi tệp tài liệu kèm chú thích Tiêu đề | "
                "Người trình bày. Bấm Xong khi đủ; không nhập gì thì dùng quy trình sinh hoạt "
                "chuẩn.").format(n=len(d.get("items", [])) + 1),
                 parse=_parse_item, choices=lambda c, d: [Choice(None, _("Xong"))],
                 repeat=True, files=True),
        ]

    def _apply(self, ctx: Ctx, m: Meeting, data: Data) -> None:
        if m.kind == MeetingKind.REGULAR.value:
            m.thematic_part = bool(data.get("thematic"))
        if data.get("topic") or m.kind == MeetingKind.REGULAR.value:
            m.topic = data.get("topic")
        place = data.get("place")
        if place:
            if place.lower().startswith(("http://", "https://")):
                m.online_link, m.place = place, None
            else:
                m.place, m.online_link = place, None

    def summary(self, ctx: Ctx, data: Data) -> str:
        m = self.meeting(ctx, data)
        cell = self.cell(ctx, data)
        if m is None or cell is None:
            return "?"
        # Preview without writing: apply to a detached copy.
        preview = Meeting.model_validate(m.model_dump())
        self._apply(ctx, preview, data)
        items = [AgendaItem(meeting_id=0, position=i, title=it["title"],
                            presenter=it.get("presenter"), document_name=it.get("document"))
                 for i, it in enumerate(data.get("items", []), 1)]
        text, _docs = agenda_text(ctx.session, preview, cell, items=items or None)
        return text

    def finish(self, ctx: Ctx, data: Data) -> None:
        s = ctx.session
        m = self.meeting(ctx, data)
        cell = self.cell(ctx, data)
        if m is None or cell is None or m.status != MeetingStatus.PLANNED.value:
            ctx.reply(_("Buổi sinh hoạt này không còn mở để sửa chương trình."))
            return
        self._apply(ctx, m, data)
        for old in agenda_of(s, meeting_id=m.id or 0):
            s.delete(old)
        for i, it in enumerate(data.get("items", []), 1):
            doc = it.get("document")
            s.add(AgendaItem(meeting_id=m.id or 0, position=i, title=it["title"],
                             presenter=it.get("presenter"),
                             document_url=doc if doc and "://" in doc else None,
                             document_name=doc if doc and "://" not in doc else None,
                             document_file_id=it.get("file"), added_at=ctx.now()))
        m.agenda_rev += 1
        m.updated_at = ctx.now()
        s.add(m)
        s.flush()
        audit(s, "meeting.agenda_set", "meeting", m.id,
              ctx.actor.member.id if ctx.actor.member else None, rev=m.agenda_rev)
        if m.agenda_posted_rev is not None:
            post_agenda(s, m, cell, ctx.now(), f"m{m.id}:agenda:{m.revision}.{m.agenda_rev}",
                        correction=True)
            ctx.reply(_("Đã lưu và đăng đính chính chương trình lên nhóm chi bộ."))
        else:
            ctx.reply(_("Đã lưu chương trình. Bot sẽ đăng lên nhóm chi bộ trước buổi họp "
                        "{h} giờ.").format(h=int(ctx.settings.cycle.agenda_post_before_h)))


forms.register(AgendaForm())


@command("chuongtrinh", "agenda", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Nhập/sửa chương trình buổi sinh hoạt (Bí thư)"))
def agenda(ctx: Ctx, args: list[str], rest: str) -> None:
    _start_for_meeting(ctx, "agenda", args)


@callback("ag", who=Who.LINKED)
def agenda_button(ctx: Ctx, parts: list[str]) -> None:
    _start_for_meeting(ctx, "agenda", parts[:1])


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
    from handlers.notify import send_group, send_private

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
    _start_for_meeting(ctx, "reschedule", args)


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
        from handlers.cycle import cancel_steps

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
    _start_for_meeting(ctx, "cancel_meeting", args)


# -- add a thematic / extraordinary / committee meeting -------------------------------------
class AddMeetingForm(CellForm):
    kind = "add_meeting"

    def steps(self, ctx: Ctx, data: Data) -> list[Step]:
        kinds = [MeetingKind.THEMATIC, MeetingKind.EXTRAORDINARY, MeetingKind.COMMITTEE]
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
                 parse=_parse_place, optional=True),
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
                 when=lambda c, d: d.get("rule") == "day"),
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
