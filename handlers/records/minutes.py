"""Capturing the minutes: guests, chair, minute-taker, opinions, conclusions, vote.

Run in a private chat by the cell's secretary or deputy, or by the minute-taker they named
(/thuky). One message per opinion, "Tên: nội dung", the name matched against the roster
with diacritics optional; an unknown name asks which member was meant. Everything stays in
the persisted form (a crash resumes at the same step) until confirmed; confirming writes
the draft minutes, which the secretary checks before they are final
(handlers.records.minutes_review).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, timedelta
from typing import Any

from sqlmodel import Session, select

from handlers.core.access import leads_cell
from handlers.core.context import Ctx
from handlers.core.roster import match_member
from handlers.core.router import Where, Who, command
from handlers.forms import engine as forms
from handlers.forms.cellform import led_cell, meeting_label
from handlers.forms.engine import Again, Choice, Form, Invalid, Step
from handlers.forms.named import choose, meeting_ref, step_answer
from handlers.forms.validators import parse_text
from handlers.records.data import vote_passed
from handlers.records.documents import vote_failed_text
from handlers.records.minutes_review import finalise
from handlers.records.store import correction_open, prefill, save_draft
from models.attendance import ATTENDED, Attendance
from models.i18n import N_, _
from models.meeting import Meeting, MeetingStatus, agenda_of, upcoming
from models.member import Member, Role, due_members, members_with_role
from models.org import Organisation
from models.records import record_for, record_of
from models.text import fold

log = logging.getLogger(__name__)
Data = dict[str, Any]
_EDIT = re.compile(r"^(sua|xoa|edit|delete)\s+(\d{1,3})\s*(?::|$)")


def writable_meetings(s: Session, cell_id: int, now: Any) -> list[Meeting]:
    """Meetings whose minutes may be captured: started (or starting within the hour), not
    cancelled or invalid, within the last 30 days; newest first."""
    return list(s.exec(select(Meeting).where(
        Meeting.cell_id == cell_id,
        Meeting.status.in_([MeetingStatus.PLANNED.value, MeetingStatus.HELD.value]),
        Meeting.scheduled_at <= now + timedelta(hours=1),
        Meeting.scheduled_at >= now - timedelta(days=30)).order_by(Meeting.scheduled_at.desc())
        .limit(5)))


def may_write(s: Session, ctx: Ctx, meeting: Meeting) -> bool:
    """Secretary or deputy of the meeting's cell, or the minute-taker named for it."""
    if leads_cell(ctx.actor, meeting.cell_id):
        return True
    rec = record_of(s, meeting.id or 0)
    me = ctx.actor.member
    return bool(ctx.actor.linked and me and rec and rec.minute_taker_id == me.id
                and me.cell_id == meeting.cell_id)


def roster(s: Session, meeting: Meeting) -> list[Member]:
    """Members present (after the roll call), else every member due to attend."""
    present = set(s.exec(select(Attendance.member_id).where(
        Attendance.meeting_id == meeting.id, Attendance.status.in_(ATTENDED))))
    members = due_members(s, cell_id=meeting.cell_id)
    return [m for m in members if m.id in present] if present else members


class MinutesForm(Form):
    kind = "minutes"

    def meeting(self, ctx: Ctx, data: Data) -> Meeting | None:
        m = ctx.session.get(Meeting, data.get("meeting")) if data.get("meeting") else None
        return m if m is not None and m.cell_id == data.get("cell_id") else None

    def authorised(self, ctx: Ctx, data: Data) -> bool:
        m = self.meeting(ctx, data)
        if m is None:  # still choosing: the cell's leaders only
            return leads_cell(ctx.actor, data.get("cell_id") or 0)
        return may_write(ctx.session, ctx, m)

    def _roster(self, ctx: Ctx, data: Data) -> list[Member]:
        m = self.meeting(ctx, data)
        return roster(ctx.session, m) if m else []

    def _names(self, ctx: Ctx, data: Data) -> dict[int, str]:
        return {m.id or 0: m.full_name for m in self._roster(ctx, data)}

    # -- guests ----------------------------------------------------------------------
    def _followers(self, ctx: Ctx, data: Data) -> list[Member]:
        return members_with_role(ctx.session, org_id=data["cell_id"],
                                 roles=(Role.FOLLOWER.value,))

    def _follower_title(self, ctx: Ctx, data: Data) -> str:
        """"Đảng ủy viên, phụ trách chi bộ": a follower sits on the committee above."""
        cell = ctx.session.get(Organisation, data["cell_id"])
        parent = ctx.session.get(Organisation, cell.parent_id) if cell and cell.parent_id \
            else None
        if parent is not None and parent.name.startswith("Đảng bộ"):
            return _("Đảng ủy viên, phụ trách chi bộ")
        return _("cấp ủy viên cấp trên, phụ trách chi bộ")

    def _guest_prompt(self, ctx: Ctx, data: Data) -> str:
        lines = [_("Khách mời dự buổi sinh hoạt. Gửi “Họ tên | chức vụ” cho mỗi khách; chọn "
                   "cấp ủy viên cấp trên phụ trách nếu đồng chí ấy dự; “xóa SỐ” để bỏ. Bấm "
                   "Xong khi đủ (hoặc không có khách).")]
        for i, (name, title, upper, _mid) in enumerate(data.get("guests", []), 1):
            lines.append(f"{i}. {name}" + (f", {title}" if title else "")
                         + (" — " + _("cấp ủy cấp trên") if upper else ""))
        return "\n".join(lines)

    def _guest_choices(self, ctx: Ctx, data: Data) -> list[Choice]:
        added = {g[3] for g in data.get("guests", [])}
        out = [Choice(["f", f.id], _("➕ {name} (cấp ủy viên phụ trách)").format(
            name=f.full_name)) for f in self._followers(ctx, data) if f.id not in added]
        return [*out, Choice("done", _("Xong"))]

    def _parse_guest(self, ctx: Ctx, data: Data, text: str) -> Any:
        guests = list(data.get("guests", []))
        edit = _EDIT.match(fold(text))
        if edit and edit.group(1) in ("xoa", "delete"):
            n = int(edit.group(2))
            if not 1 <= n <= len(guests):
                raise Invalid(_("Không có khách số {n}.").format(n=n))
            guests.pop(n - 1)
            data["guests"] = guests
            raise Again(_("Đã bỏ khách số {n}.").format(n=n))
        parts = [p.strip() for p in text.split("|")]
        name = parse_text(parts[0], max_len=120)
        title = parse_text(parts[1], max_len=200) if len(parts) > 1 and parts[1] else None
        follower, _c = match_member(self._followers(ctx, data), name)
        upper = follower is not None and fold(follower.full_name) == fold(name)
        guests.append([follower.full_name if upper and follower else name, title, upper,
                       follower.id if upper and follower else None])
        data["guests"] = guests
        raise Again(_("Đã ghi khách mời: {name}.").format(name=guests[-1][0]), short=True)

    # -- opinions --------------------------------------------------------------------
    def _opinion_prompt(self, ctx: Ctx, data: Data) -> str:
        members = self._roster(ctx, data)
        pending = data.get("pending")
        if pending:
            return _("Chưa rõ “{name}” là đồng chí nào. Đồng chí chọn người phát biểu cho ý "
                     "kiến: “{text}”").format(name=pending[0], text=pending[1][:200])
        lines = [_("Ý kiến phát biểu: gửi mỗi ý kiến một tin nhắn “Tên: nội dung” (tên không "
                   "cần dấu, hoặc số thứ tự). Sửa: “sửa SỐ: nội dung mới”; xóa: “xóa SỐ”. "
                   "Bấm Xong khi hết ý kiến.")]
        lines.append(", ".join(f"{i}. {m.full_name}" for i, m in enumerate(members, 1)))
        ops = data.get("opinions", [])
        if ops:
            lines.append(_("Đã ghi {n} ý kiến:").format(n=len(ops)))
            lines += [f"{i}. {sp}: {tx[:120]}" for i, (_mid, sp, tx) in enumerate(ops, 1)]
        return "\n".join(lines)

    def _opinion_choices(self, ctx: Ctx, data: Data) -> list[Choice]:
        pending = data.get("pending")
        if pending:
            by_id = {m.id: m for m in self._roster(ctx, data)}
            return [*(Choice(mid, by_id[mid].full_name) for mid in pending[2] if mid in by_id),
                    Choice("drop", _("Bỏ ý kiến này"))]
        return [Choice("done", _("Xong"))]

    def _parse_opinion(self, ctx: Ctx, data: Data, text: str) -> Any:
        ops = list(data.get("opinions", []))
        if data.get("pending"):
            raise Invalid(_("Đồng chí chọn một người trong danh sách dưới đây (gửi số thứ tự)."))
        edit = _EDIT.match(fold(text))
        if edit:
            n = int(edit.group(2))
            if not 1 <= n <= len(ops):
                raise Invalid(_("Không có ý kiến số {n}.").format(n=n))
            if edit.group(1) in ("xoa", "delete"):
                ops.pop(n - 1)
                data["opinions"] = ops
                raise Again(_("Đã xóa ý kiến số {n}.").format(n=n))
            content = text.split(":", 1)[1] if ":" in text else ""
            ops[n - 1] = [ops[n - 1][0], ops[n - 1][1], parse_text(content, max_len=2000)]
            data["opinions"] = ops
            raise Again(_("Đã sửa ý kiến số {n}.").format(n=n))
        if ":" not in text:
            raise Invalid(_("Cần dạng “Tên: nội dung”, ví dụ “Hà: Đề nghị đẩy nhanh tiến độ "
                            "giải ngân.”"))
        who, content = (p.strip() for p in text.split(":", 1))
        content = parse_text(content, max_len=2000)
        who = parse_text(who, max_len=120)
        guest = next((g for g in data.get("guests", []) if fold(g[0]) == fold(who)), None)
        if guest is not None:
            ops.append([None, guest[0], content])
            data["opinions"] = ops
            raise Again(_("Đã ghi ý kiến {n} của đồng chí {name}.").format(n=len(ops),
                                                                        name=guest[0]),
                        short=True)
        member, candidates = match_member(self._roster(ctx, data), who)
        if member is None:
            log.info("minutes: speaker %r not matched (%d candidates)", who, len(candidates))
            cands = candidates or self._roster(ctx, data)
            data["pending"] = [who, content, [m.id for m in cands[:8]]]
            raise Again(_("Không tìm thấy “{name}” trong danh sách đảng viên dự họp.").format(
                name=who))
        ops.append([member.id, member.full_name, content])
        data["opinions"] = ops
        raise Again(_("Đã ghi ý kiến {n} của đồng chí {name}.").format(
            n=len(ops), name=member.full_name), short=True)

    # -- vote ------------------------------------------------------------------------
    def present(self, ctx: Ctx, data: Data) -> int:
        return len(self._roster(ctx, data))

    def _parse_vote(self, ctx: Ctx, data: Data, text: str) -> list[int]:
        parts = re.split(r"[\s,;/]+", text.strip())
        if not 1 <= len(parts) <= 3 or not all(p.isascii() and p.isdigit() and len(p) < 5
                                               for p in parts):
            raise Invalid(_("Cần 1 đến 3 số: tán thành, không tán thành, ý kiến khác; ví dụ "
                            "“5 0 0”."))
        nums = [int(p) for p in parts] + [0] * (3 - len(parts))
        present = self.present(ctx, data)
        if sum(nums) > present:
            raise Invalid(_("Tổng số biểu quyết ({total}) vượt quá số đảng viên có mặt "
                            "({present}).").format(total=sum(nums), present=present))
        if nums[0] == 0 and sum(nums) == 0:
            raise Invalid(_("Chưa có phiếu biểu quyết nào."))
        return nums

    # -- steps -------------------------------------------------------------------------
    def store(self, ctx: Ctx, data: Data, step: Step, value: Any) -> None:
        if step.name == "meeting":
            data["meeting"] = value
            m = self.meeting(ctx, data)
            if m is not None:
                data.update(prefill(ctx.session, m))
        elif step.name == "guests":
            if isinstance(value, list):
                f = ctx.session.get(Member, value[1])
                if f is not None:
                    data["guests"] = [*data.get("guests", []),
                                      [f.full_name, self._follower_title(ctx, data), True,
                                       f.id]]
                    raise Again(_("Đã ghi khách mời: {name}.").format(name=f.full_name))
        elif step.name == "opinions":
            pending = data.pop("pending", None)
            if value == "drop":
                raise Again(_("Đã bỏ ý kiến chưa rõ người phát biểu."))
            if pending and isinstance(value, int):
                m = ctx.session.get(Member, value)
                data["opinions"] = [*data.get("opinions", []),
                                    [value, m.full_name if m else "", pending[1]]]
                raise Again(_("Đã ghi ý kiến {n} của đồng chí {name}.").format(
                    n=len(data["opinions"]), name=m.full_name if m else ""))
        elif step.name.startswith("c:"):
            concl = dict(data.get("concl", {}))
            if value is None:
                concl.pop(step.name[2:], None)
            else:
                concl[step.name[2:]] = value
            data["concl"] = concl
        else:
            data[step.name] = value

    def steps(self, ctx: Ctx, data: Data) -> list[Step]:
        def meetings(c: Ctx, d: Data) -> list[Choice]:
            return [Choice(m.id, meeting_label(m))
                    for m in writable_meetings(c.session, d["cell_id"], c.now())]

        def members(c: Ctx, d: Data) -> list[Choice]:
            return [Choice(m.id, m.full_name) for m in self._roster(c, d)]

        steps = [
            Step("meeting", lambda c, d: _("Ghi biên bản buổi sinh hoạt nào?"),
                 choices=meetings, parse=lambda c, d, t: step_answer(
                     c, d["cell_id"], t, [ch.value for ch in meetings(c, d)]),
                 when=lambda c, d: not d.get("meeting_fixed")),
            Step("guests", self._guest_prompt, choices=self._guest_choices,
                 parse=self._parse_guest,
                 short=lambda c, d: _("Khách tiếp theo, hoặc bấm Xong.")),
            Step("chair", lambda c, d: _("Đồng chí chủ trì buổi sinh hoạt:"), choices=members),
            Step("taker", lambda c, d: _("Đồng chí thư ký (ghi biên bản):"), choices=members),
            Step("opinions", self._opinion_prompt, choices=self._opinion_choices,
                 parse=self._parse_opinion,
                 short=lambda c, d: _("Ý kiến tiếp theo (“Tên: nội dung”), hoặc bấm Xong.")),
        ]
        m = self.meeting(ctx, data)
        items = agenda_of(ctx.session, meeting_id=m.id or 0) if m else []
        for it in items:
            steps.append(Step(f"c:{it.position}", lambda c, d, t=it.title: _(
                "Kết luận của chủ trì về nội dung “{title}”:").format(title=t),
                parse=lambda c, d, t: parse_text(t, max_len=2000), optional=True))
        steps.append(Step("c:0", lambda c, d: _("Kết luận chung của chủ trì:") if items else
                          _("Kết luận của chủ trì buổi sinh hoạt:"),
                          parse=lambda c, d, t: parse_text(t, max_len=2000),
                          optional=bool(items)))
        steps.append(Step("vote", lambda c, d: _(
            "Biểu quyết thông qua nghị quyết: gửi ba số theo thứ tự tán thành, không tán thành, "
            "ý kiến khác; ví dụ “{n} 0 0” ({n} đảng viên có mặt).").format(n=self.present(c, d)),
            choices=lambda c, d: [Choice([self.present(c, d), 0, 0],
                                         _("Tất cả tán thành"))],
            parse=self._parse_vote))
        return steps

    def summary(self, ctx: Ctx, data: Data) -> str:
        names = {m.id: m.full_name for m in self._roster(ctx, data)}
        lines = [_("Biên bản (xác nhận là bản chính thức):") if leads_cell(
            ctx.actor, data["cell_id"]) else _("Biên bản (dự thảo):")]
        for name, title, upper, _mid in data.get("guests", []):
            lines.append(_("Khách mời: {name}").format(name=name) + (f", {title}" if title
                                                                    else "")
                         + (" — " + _("cấp ủy cấp trên") if upper else ""))
        lines.append(_("Chủ trì: {a}; thư ký: {b}.").format(a=names.get(data.get("chair"), ""),
                                                           b=names.get(data.get("taker"), "")))
        ops = data.get("opinions", [])
        speakers = {o[1] for o in ops}
        lines.append(_("{n} ý kiến của {k} người:").format(n=len(ops), k=len(speakers)))
        lines += [f"{i}. {sp}: {tx}" for i, (_mid, sp, tx) in enumerate(ops, 1)]
        for pos, text in sorted(data.get("concl", {}).items()):
            lines.append(_("Kết luận: {text}").format(text=text) if pos == "0"
                         else _("Kết luận mục {pos}: {text}").format(pos=pos, text=text))
        a, d, o = data.get("vote", [0, 0, 0])
        lines.append(_("Biểu quyết: tán thành {a}, không tán thành {d}, ý kiến khác {o}.")
                     .format(a=a, d=d, o=o))
        if "vote" in data and not vote_passed(data["vote"], self.present(ctx, data)):
            lines.append("⚠️ " + vote_failed_text() + " " + _(
                "Biên bản ghi nhận kết quả này; nghị quyết sẽ không được ban hành."))
        return "\n".join(lines)

    def finish(self, ctx: Ctx, data: Data) -> None:
        m = self.meeting(ctx, data)
        if m is None or not may_write(ctx.session, ctx, m):
            ctx.deny("minutes finish")
            return
        if leads_cell(ctx.actor, m.cell_id):  # the form's confirmation is the only one
            save_draft(ctx, m, data, for_review=False)
            finalise(ctx, m)
        else:
            save_draft(ctx, m, data)


forms.register(MinutesForm())


def _meeting_for(ctx: Ctx, cell: Organisation) -> Meeting | None:
    found = writable_meetings(ctx.session, cell.id or 0, ctx.now())
    return found[0] if len(found) == 1 else None


@command("ghibienban", "minutes", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Ghi biên bản buổi sinh hoạt: ý kiến, kết luận, biểu quyết (Bí thư, thư ký)"))
def capture(ctx: Ctx, args: list[str], rest: str) -> None:
    s = ctx.session
    me = ctx.actor.member
    cell = led_cell(ctx) or (s.get(Organisation, me.cell_id) if me and me.cell_id else None)
    if cell is None:
        ctx.deny("minutes: no cell")
        return
    if args:
        picked = choose(ctx, [cell.id or 0], rest, "ghibienban", cell.timezone,
                        default=writable_meetings(s, cell.id or 0, ctx.now()))
        if picked is None:
            return
    meeting = picked[0] if args else _meeting_for(ctx, cell)
    if meeting is not None and not may_write(s, ctx, meeting):
        ctx.deny("minutes: not secretary, deputy or minute-taker")
        return
    if meeting is None and not leads_cell(ctx.actor, cell.id or 0):
        ctx.deny("minutes: not a leader, no meeting named")
        return
    if meeting is None and not writable_meetings(s, cell.id or 0, ctx.now()):
        ctx.reply(_("Chưa có buổi sinh hoạt nào đã diễn ra để ghi biên bản."))
        return
    if meeting is not None and not correction_open(ctx, meeting):
        ctx.reply(_("Biên bản đã xác nhận quá {d} ngày; việc sửa cần cấp ủy cơ sở mở lại "
                    "(/mobienban {ref}).").format(d=ctx.settings.cycle.correction_window_days,
                                                  ref=meeting_ref(meeting)))
        return
    data: Data = {"cell_id": cell.id}
    if meeting is not None:
        data.update(meeting=meeting.id, meeting_fixed=True, **prefill(s, meeting))
    forms.start(ctx, "minutes", data)


@command("thuky", "minutetaker", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Giao một đảng viên ghi biên bản buổi sinh hoạt: /thuky TÊN"))
def name_taker(ctx: Ctx, args: list[str], rest: str) -> None:
    s = ctx.session
    cell = led_cell(ctx)
    if cell is None:
        ctx.deny("minute-taker: not a leader")
        return
    if not rest:
        ctx.reply(_("Đồng chí ghi tên người ghi biên bản: /thuky TÊN."))
        return
    # A meeting that started within the last day (named at or just after it), else the
    # next one however far ahead (not last month's, already held), else the latest whose
    # minutes may still be written.
    recent = writable_meetings(s, cell.id or 0, ctx.now())
    since = ctx.now() - timedelta(days=1)
    found = [m for m in recent  # SQLite hands datetimes back naive (UTC)
             if (m.scheduled_at.replace(tzinfo=UTC) if m.scheduled_at.tzinfo is None
                 else m.scheduled_at) >= since] or \
        upcoming(s, cell_id=cell.id or 0, now=ctx.now(), limit=1) or recent
    if not found:
        ctx.reply(_("Chi bộ chưa có buổi sinh hoạt nào sắp diễn ra hoặc vừa diễn ra."))
        return
    meeting = found[0]
    member, candidates = match_member(due_members(s, cell_id=cell.id or 0), rest)
    if member is None:
        log.info("/thuky: no member named %r", rest[:60])
        ctx.reply(_("Không xác định được đồng chí “{name}”. Có phải: {names}?").format(
            name=rest[:60], names=", ".join(m.full_name for m in candidates)) if candidates
            else _("Không tìm thấy đồng chí “{name}” trong chi bộ.").format(name=rest[:60]))
        return
    rec = record_for(s, meeting.id or 0, cell.id or 0)
    rec.minute_taker_id = member.id
    s.add(rec)
    ctx.reply(_("Đồng chí {name} ghi biên bản buổi {meeting}; đồng chí ấy dùng /ghibienban "
                "{ref}.").format(name=member.full_name, meeting=meeting_label(meeting),
                                 ref=meeting_ref(meeting)))
