"""/hopchiuy: the chi ủy's preparation meeting before a regular meeting, and its short
minutes (.docx). Cells without a chi ủy (only a secretary) skip it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handlers.core.access import leads_cell
from handlers.core.context import Ctx
from handlers.core.router import Where, Who, callback, command
from handlers.forms import engine as forms
from handlers.forms.cellform import led_cell, meeting_label, start_for_meeting
from handlers.forms.engine import Choice, Form, Invalid, Step
from handlers.forms.named import choose, step_answer
from handlers.forms.validators import parse_datetime, parse_text
from handlers.meetings.agenda_form import AFTER_SAVE
from handlers.records.data import committee_data, programme_text
from handlers.records.documents import committee_docx
from handlers.records.store import store_document
from models.audit import audit
from models.i18n import N_, _, fmt_datetime, to_local, use_locale
from models.meeting import Meeting, MeetingKind, MeetingStatus, agenda_of
from models.member import Member, Role, members_with_role
from models.messages import Attachment
from models.org import Organisation
from models.records import CommitteeMeeting, DocType, committee_of

Data = dict[str, Any]
PROGRAMME = "@programme"  # the content step's button: the agenda is the chi ủy's content
COMMITTEE = (Role.SECRETARY.value, Role.DEPUTY.value, Role.COMMITTEE.value)


def preparable(ctx: Ctx, cell_id: int) -> list[Meeting]:
    """Regular or thematic meetings of the cell from 3 days ago to 40 days ahead."""
    from sqlmodel import select

    now = ctx.now()
    return list(ctx.session.exec(select(Meeting).where(
        Meeting.cell_id == cell_id, Meeting.kind != MeetingKind.COMMITTEE.value,
        Meeting.status.in_([MeetingStatus.PLANNED.value, MeetingStatus.HELD.value]),
        Meeting.scheduled_at >= now - timedelta(days=3),
        Meeting.scheduled_at <= now + timedelta(days=40)).order_by(Meeting.scheduled_at)
        .limit(3)))


class CommitteeForm(Form):
    kind = "committee"

    def authorised(self, ctx: Ctx, data: Data) -> bool:
        return leads_cell(ctx.actor, data.get("cell_id") or 0)

    def meeting(self, ctx: Ctx, data: Data) -> Meeting | None:
        m = ctx.session.get(Meeting, data.get("meeting")) if data.get("meeting") else None
        return m if m is not None and m.cell_id == data.get("cell_id") else None

    def _leaders(self, ctx: Ctx, data: Data) -> list[Member]:
        return members_with_role(ctx.session, org_id=data["cell_id"], roles=COMMITTEE)

    def _parse_held(self, ctx: Ctx, data: Data, text: str) -> str:
        m = self.meeting(ctx, data)
        tz = ZoneInfo(m.timezone if m else "Asia/Ho_Chi_Minh")
        local = parse_datetime(text, to_local(ctx.now(), str(tz)).date()).replace(tzinfo=tz)
        if local > ctx.now() + timedelta(minutes=5):
            raise Invalid(_("Thời gian họp chi ủy không thể ở tương lai."))
        return local.isoformat()

    def _parse_who(self, ctx: Ctx, data: Data, text: str) -> list[int]:
        leaders = self._leaders(ctx, data)
        picked = []
        for part in re.split(r"[\s,;]+", text.strip()):
            if not (part.isascii() and part.isdigit() and 1 <= int(part) <= len(leaders)):
                raise Invalid(_("Gửi số thứ tự các đồng chí dự họp, từ 1 đến {n}, ví dụ “1 2 "
                                "3”.").format(n=len(leaders)))
            picked.append(leaders[int(part) - 1].id or 0)
        return sorted(set(picked))

    def steps(self, ctx: Ctx, data: Data) -> list[Step]:
        def meetings(c: Ctx, d: Data) -> list[Choice]:
            return [Choice(m.id, meeting_label(m)) for m in preparable(c, d["cell_id"])]

        def who_prompt(c: Ctx, d: Data) -> str:
            names = ", ".join(f"{i}. {m.full_name}"
                              for i, m in enumerate(self._leaders(c, d), 1))
            return _("Các đồng chí chi ủy dự họp (gửi số thứ tự, ví dụ “1 2 3”):") + "\n" + names

        return [
            Step("meeting", lambda c, d: _("Họp chi ủy chuẩn bị cho buổi sinh hoạt nào?"),
                 choices=meetings, when=lambda c, d: not d.get("meeting_fixed"),
                 parse=lambda c, d, t: step_answer(c, d["cell_id"], t,
                                                   [ch.value for ch in meetings(c, d)])),
            Step("held", lambda c, d: _("Chi ủy họp lúc nào? (ví dụ 28/11/2026 14:00)"),
                 choices=lambda c, d: [Choice(c.now().isoformat(), _("Vừa họp xong"))],
                 parse=self._parse_held),
            Step("who", who_prompt, parse=self._parse_who,
                 choices=lambda c, d: [Choice([m.id for m in self._leaders(c, d)],
                                              _("Đủ tất cả"))]),
            Step("content", lambda c, d: _("Nội dung chi ủy đã thống nhất (chương trình, người "
                                           "trình bày, dự thảo nghị quyết…), hoặc chọn nút "
                                           "chương trình để khỏi gõ hai lần:")
                 if self._programme_choice(c, d) else _(
                     "Nội dung chi ủy đã thống nhất (chương trình, người trình bày, dự thảo "
                     "nghị quyết…):"),
                 parse=lambda c, d, t: parse_text(t, max_len=3000),
                 choices=self._programme_choice),
        ]

    def _programme_choice(self, ctx: Ctx, data: Data) -> list[Choice]:
        """The programme as the chi ủy's content: the agenda entered already, or the one
        the secretary enters right after (the form opens next); typed once either way."""
        m = self.meeting(ctx, data)
        n = len(agenda_of(ctx.session, meeting_id=m.id or 0)) if m else 0
        if not n and (m is None or m.status != MeetingStatus.PLANNED.value):
            return []  # held already (recorded late): no agenda can follow now
        return [Choice(PROGRAMME, _("📋 Theo chương trình đã nhập ({n} nội dung)").format(n=n)
                       if n else _("📋 Thống nhất chương trình (nhập ngay sau đây)"))]

    def summary(self, ctx: Ctx, data: Data) -> str:
        m = self.meeting(ctx, data)
        names = {x.id: x.full_name for x in self._leaders(ctx, data)}
        from datetime import datetime

        held = datetime.fromisoformat(data["held"])
        return "\n".join([
            _("Họp chi ủy chuẩn bị {meeting}").format(meeting=meeting_label(m) if m else ""),
            _("Thời gian: {when}").format(when=fmt_datetime(held, m.timezone if m else
                                                            "Asia/Ho_Chi_Minh")),
            _("Dự họp: {names}").format(names=", ".join(names.get(i, "") for i in data["who"])),
            _("Nội dung: {text}").format(text=programme_text(ctx.session, m) if m and data[
                "content"] == PROGRAMME else data["content"])])

    def finish(self, ctx: Ctx, data: Data) -> None:
        from datetime import datetime

        s = ctx.session
        m = self.meeting(ctx, data)
        cell = s.get(Organisation, data["cell_id"])
        if m is None or cell is None:
            ctx.reply(_("Không tìm thấy buổi sinh hoạt."))
            return
        row = committee_of(s, m.id or 0) or CommitteeMeeting(meeting_id=m.id or 0,
                                                             held_at=ctx.now(), content="")
        row.held_at = datetime.fromisoformat(data["held"])
        row.attendees = {"ids": data["who"]}
        follows = data["content"] == PROGRAMME
        row.content = "" if follows else data["content"]  # "": the agenda's items, as saved
        row.recorded_by = ctx.actor.member.id if ctx.actor.member else None
        row.recorded_at = ctx.now()
        s.add(row)
        s.flush()
        with use_locale(cell.locale):
            d = committee_data(s, m, cell, ctx.settings.place)
            assert d is not None
            docx = committee_docx(d)
        name = f"hop-chi-uy-{m.period}.docx"
        store_document(s, m, DocType.COMMITTEE.value, name, docx, final=True, by=row.recorded_by,
                       now=ctx.now())
        audit(s, "committee.recorded", "meeting", m.id, row.recorded_by,
              attendees=len(data["who"]))
        entered = len(agenda_of(s, meeting_id=m.id or 0))
        ahead = m.status == MeetingStatus.PLANNED.value  # else recorded after the meeting
        agenda_next = follows and not entered and ahead
        done = _("Đã ghi biên bản họp chi ủy chuẩn bị {meeting}.")
        if agenda_next:
            done = _("Đã ghi biên bản họp chi ủy chuẩn bị {meeting}; nội dung là chương trình "
                     "đồng chí nhập ngay sau đây.")
        elif follows and entered:
            done = _("Đã ghi biên bản họp chi ủy chuẩn bị {meeting}; nội dung là chương trình "
                     "đã nhập ({n} nội dung).")
        elif ahead and not entered:
            done = _("Đã ghi biên bản họp chi ủy chuẩn bị {meeting}. Nhắc đồng chí: nhập chương "
                     "trình (/chuongtrinh) nếu chưa nhập.")
        text = done.format(meeting=meeting_label(m), n=entered)
        if ahead:
            text += " " + _("Tài liệu cần đăng lên Sổ tay đảng viên trước buổi họp; link Sổ tay "
                            "trong chương trình được ghi là đã đăng (hoặc ghi /sotay truoc).")
        ctx.send(ctx.incoming.chat.id, text, attachment=Attachment(name, docx))
        if agenda_next:
            start_for_meeting(ctx, "agenda", [f"#{m.id}"], {"after_committee": True},
                              command="chuongtrinh")


def _follow_agenda(ctx: Ctx, m: Meeting, cell: Organisation) -> None:
    """Chi ủy minutes that say "the programme" are written again when the agenda is saved,
    so the stored document lists its items."""
    s = ctx.session
    row = committee_of(s, m.id or 0)
    if row is None or row.content:
        return
    with use_locale(cell.locale):
        d = committee_data(s, m, cell, ctx.settings.place)
        assert d is not None
        docx = committee_docx(d)
    store_document(s, m, DocType.COMMITTEE.value, f"hop-chi-uy-{m.period}.docx", docx,
                   final=True, by=row.recorded_by, now=ctx.now())


AFTER_SAVE.append(_follow_agenda)


forms.register(CommitteeForm())


@command("hopchiuy", "committee", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Ghi kết quả họp chi ủy chuẩn bị buổi sinh hoạt (Bí thư, Phó Bí thư)"))
def committee_cmd(ctx: Ctx, args: list[str], rest: str) -> None:
    cell = led_cell(ctx)
    if cell is None:
        ctx.deny("committee: not a leader")
        return
    data: Data = {"cell_id": cell.id}
    if args:
        picked = choose(ctx, [cell.id or 0], rest, "hopchiuy", cell.timezone,
                        default=preparable(ctx, cell.id or 0))
        if picked is None:
            return
        data.update(meeting=picked[0].id, meeting_fixed=True)
    elif not preparable(ctx, cell.id or 0):
        ctx.reply(_("Chi bộ chưa có buổi sinh hoạt nào sắp tới."))
        return
    forms.start(ctx, "committee", data)


@callback("hcu", who=Who.LINKED)
def committee_button(ctx: Ctx, parts: list[str]) -> None:
    """The button on the chi ủy reminder: the same as /hopchiuy for that meeting."""
    # "#id": a button names the meeting by id (a bare number 1–12 is a month)
    ref = f"#{parts[0]}" if parts and parts[0].isascii() and parts[0].isdigit() else ""
    committee_cmd(ctx, [ref] if ref else [], ref)
