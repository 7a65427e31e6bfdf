"""The agenda form: the secretary enters or edits a meeting's agenda items and documents."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlmodel import select

from handlers.core.context import Ctx
from handlers.core.router import Where, Who, callback, command
from handlers.forms import engine as forms
from handlers.forms.cellform import CellForm, parse_place, start_for_meeting
from handlers.forms.engine import Choice, Invalid, Step
from handlers.forms.named import meeting_ref
from handlers.forms.validators import parse_text
from handlers.meetings.agenda import agenda_text
from handlers.meetings.reminders import post_agenda
from handlers.records.sotay import is_sotay_link, record_before
from models.audit import audit
from models.files import StoredFile
from models.i18n import N_, _, fmt_datetime
from models.meeting import (
    AgendaItem,
    Meeting,
    MeetingKind,
    MeetingStatus,
    agenda_of,
    drop_unused_files,
)
from models.member import cell_members
from models.org import Organisation
from models.records import record_of
from models.schedule import ScheduledStep, StepStatus
from models.text import fold, match_words

Data = dict[str, Any]
# Called after an agenda is saved (the chi ủy minutes that say "the programme" follow it).
AFTER_SAVE: list[Callable[[Ctx, Meeting, Organisation], None]] = []


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
    if att is None and len(parts) == 2 and _link(parts[1]):
        parts.insert(1, "")  # "Tiêu đề | link": the presenter left out, not the link
    title = parse_text(parts[0], max_len=300)
    presenter = parse_text(parts[1], max_len=120) if len(parts) > 1 and parts[1] else None
    presenter = _presenter(ctx, data, presenter)
    if att is None:
        doc = parse_text(parts[2], max_len=500) if len(parts) > 2 and parts[2] else None
        return {"title": title, "presenter": presenter, "document": _link(doc) or doc}
    stored = StoredFile(filename=att.filename[:200], size=len(att.data), data=att.data,
                        uploaded_by=ctx.actor.member.id if ctx.actor.member else None,
                        created_at=ctx.now())
    ctx.session.add(stored)
    ctx.session.flush()
    return {"title": title, "presenter": presenter, "document": stored.filename,
            "file": stored.id}



_BARE_LINK = re.compile(r"^(?:www\.[^\s/]+|[\w-]+(?:\.[\w-]+)+/\S*)$", re.IGNORECASE)


def _link(text: str | None) -> str | None:
    """``text`` as a link: as typed with its scheme, or a copied address without one
    ("sotay.dangcongsan.vn/…", "www.…") given "https://"; None for anything else (a
    presenter, a file name such as "bao-cao.pdf")."""
    t = (text or "").strip()
    if "://" in t and " " not in t:
        return t
    return "https://" + t if _BARE_LINK.match(t) and "@" not in t else None


def _presenter(ctx: Ctx, data: Data, said: str | None) -> str | None:
    """A presenter named as the secretary says it ("Thành", "đ/c Oanh"): the one member of
    the cell so named, in full ("Đ/c Dương Văn Thành"); anything else stays as typed (a
    guest, a full name, a name two members share)."""
    if not said:
        return said
    words = said.split()
    folded = [fold(w) for w in words]
    if folded[:2] == ["dong", "chi"]:
        words = words[2:]
    elif folded[:1] in (["d/c"], ["dc"]):
        words = words[1:]
    name = " ".join(words)
    members = cell_members(ctx.session, cell_id=data.get("cell_id") or 0)
    hit = match_words(name, [m.full_name for m in members]) if name else None
    if hit is None or fold(name) == fold(members[hit].full_name):
        return said
    return f"Đ/c {members[hit].full_name}"  # stored data: written as the documents write it


class AgendaForm(CellForm):
    kind = "agenda"

    def discard(self, ctx: Ctx, data: Data) -> None:
        """Files uploaded into an agenda that is never confirmed are not kept."""
        drop_unused_files(ctx.session, [it.get("file") for it in data.get("items", [])
                                        if isinstance(it, dict)])

    def cancelled_text(self, ctx: Ctx, data: Data) -> str:
        """Opened right after the chi ủy record: that record stays, only this is dropped."""
        m = self.meeting(ctx, data)
        if not data.get("after_committee") or m is None:
            return super().cancelled_text(ctx, data)
        return _("Đã hủy nhập chương trình; biên bản họp chi ủy vẫn được lưu. Khi có chương "
                 "trình, đồng chí nhập bằng /chuongtrinh {ref}.").format(ref=meeting_ref(m))

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
                 parse=lambda c, d, t: parse_text(t, max_len=300), when=needs_topic,
                 sub=True),
            Step("place", lambda c, d: _("Địa điểm, hoặc đường link nếu họp trực tuyến:"),
                 parse=parse_place, optional=True, choices=self._place_choices),
            Step("items", lambda c, d: _(
                "Nội dung thứ {n}: gửi theo dạng Tiêu đề | Người trình bày | Link tài liệu "
                "(chỉ tiêu đề là bắt buộc), hoặc gửi tệp tài liệu kèm chú thích Tiêu đề | "
                "Người trình bày. Bấm Xong khi đủ; không nhập gì thì dùng quy trình sinh hoạt "
                "chuẩn.").format(n=len(d.get("items", [])) + 1),
                 parse=_parse_item, choices=lambda c, d: [Choice(None, _("Xong"))],
                 repeat=True, files=True,
                 short=lambda c, d: _("Nội dung thứ {n}, hoặc bấm Xong.").format(
                     n=len(d.get("items", [])) + 1)),
        ]

    def _place_choices(self, ctx: Ctx, data: Data) -> list[Choice]:
        """The place already set, else the cell's last meeting place (not a chi ủy
        meeting's), as one button."""
        m = self.meeting(ctx, data)
        if m is None:
            return []
        last = m if (m.place or m.online_link) else ctx.session.exec(select(Meeting).where(
            Meeting.cell_id == m.cell_id, Meeting.id != m.id,
            Meeting.scheduled_at < m.scheduled_at,
            Meeting.status != MeetingStatus.CANCELLED.value,
            Meeting.kind != MeetingKind.COMMITTEE.value,  # the chi ủy's room: not the cell's
            (Meeting.place != None) | (Meeting.online_link != None))  # noqa: E711
            .order_by(Meeting.scheduled_at.desc())).first()
        where = (last.place or last.online_link) if last else None
        return [Choice(where, "📍 " + where[:80])] if where else []

    def saved_answers(self, ctx: Ctx, meeting: Meeting) -> Data:
        """Editing an agenda starts from its saved items (one can be changed by number)."""
        items = []
        for it in agenda_of(ctx.session, meeting_id=meeting.id or 0):
            item: dict[str, Any] = {"title": it.title, "presenter": it.presenter,
                                    "document": it.document_url or it.document_name}
            if it.document_file_id:
                item["file"] = it.document_file_id
            items.append(item)
        return {"items": items} if items else {}

    def item_text(self, ctx: Ctx, data: Data, step: Step, item: Any) -> str:
        parts = [item["title"], item.get("presenter"), item.get("document")]
        return " | ".join(p for p in parts if p)

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
        replaced = []
        for old in agenda_of(s, meeting_id=m.id or 0):
            replaced.append(old.document_file_id)
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
        drop_unused_files(s, replaced)  # documents the new agenda no longer lists
        audit(s, "meeting.agenda_set", "meeting", m.id,
              ctx.actor.member.id if ctx.actor.member else None, rev=m.agenda_rev)
        self._after_save(ctx, m, cell, data)
        ctx.reply(self._saved_text(ctx, m, cell) + "".join(
            "\n" + note for note in self._notes(ctx, m, data)))

    def _notes(self, ctx: Ctx, m: Meeting, data: Data) -> list[str]:
        """What the saved agenda also settles: a document linked on Sổ tay is recorded as
        posted there before the meeting (no "/sotay truoc" with the same link again)."""
        links = [it.get("document") for it in data.get("items", []) if isinstance(it, dict)]
        sotay = next((u for u in links if is_sotay_link(u)), None)
        rec = record_of(ctx.session, m.id or 0)
        if sotay is None or (rec is not None and rec.sotay_before_at is not None):
            return []
        return [record_before(ctx, m, sotay, by_agenda=True)]

    def _after_save(self, ctx: Ctx, m: Meeting, cell: Organisation, data: Data) -> None:
        """Hook for the chi ủy minutes that follow the agenda (see handlers.meetings.chiuy)."""
        for fn in AFTER_SAVE:
            fn(ctx, m, cell)

    def _saved_text(self, ctx: Ctx, m: Meeting, cell: Organisation) -> str:
        s = ctx.session
        if m.agenda_posted_rev is not None:
            post_agenda(s, m, cell, ctx.now(), f"m{m.id}:agenda:{m.revision}.{m.agenda_rev}",
                        correction=True)
            return _("Đã lưu và đăng đính chính chương trình lên nhóm chi bộ.")
        post = s.exec(select(ScheduledStep.due_at).where(
            ScheduledStep.meeting_id == m.id, ScheduledStep.step == "agenda_post",
            ScheduledStep.status == StepStatus.PENDING.value)).first()
        if post is not None:  # the cell's own notice time (/baotruoc), quiet hours kept
            return _("Đã lưu chương trình. Bot sẽ đăng lên nhóm chi bộ lúc {when}.").format(
                when=fmt_datetime(post, m.timezone))
        return _("Đã lưu chương trình. Bot sẽ đăng lên nhóm chi bộ trước buổi họp {h} giờ."
                 ).format(h=int(ctx.settings.cycle.agenda_post_before_h))


forms.register(AgendaForm())


@command("chuongtrinh", "agenda", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Nhập/sửa chương trình buổi sinh hoạt (Bí thư)"))
def agenda(ctx: Ctx, args: list[str], rest: str) -> None:
    start_for_meeting(ctx, "agenda", args, command="chuongtrinh")


@callback("ag", who=Who.LINKED)
def agenda_button(ctx: Ctx, parts: list[str]) -> None:
    start_for_meeting(ctx, "agenda", [f"#{parts[0]}" if parts and parts[0].isdigit() else "#0"],
                      command="chuongtrinh")


