"""Post-meeting scoring against the cell's rubric, corrections, and upper-level confirmation.

Auto criteria are computed once when the form starts and shown, not asked. Manual criteria
are asked group by group ("3 2 2", or "đủ" for full marks), each range-checked, with the
running total. A secretary may correct a submitted score within the correction window
(a new revision; the old one is kept); after that only an officer above the cell can
reopen it. The assigned upper-level committee member confirms or adjusts: both scores
are kept.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from bot.i18n import N_, _, current_locale, fmt_date, fmt_datetime, fmt_number, use_locale
from handlers import forms
from handlers.access import follows_cell, oversees
from handlers.agenda import title_line
from handlers.autoscore import compute, is_thematic, tasks_share_points
from handlers.context import Ctx, buttons
from handlers.forms import Choice, Invalid, Step
from handlers.labels import label
from handlers.meetings import CellForm, led_cell, meeting_label
from handlers.notify import send_group, send_private
from handlers.router import Where, Who, callback, command
from handlers.text import as_id, fold
from handlers.validators import parse_date, parse_number, parse_text
from models.audit import audit
from models.meeting import Meeting, MeetingStatus, Task
from models.member import Member, Role, cell_members, members_with_role
from models.org import Organisation
from models.rubric import Group, Rubric, load_rubric
from models.score import Score, ScoreItem, ScoreKind

Data = dict[str, Any]
FULL_WORDS = {"du", "du diem", "full", "toi da"}


def rubric_for(ctx: Ctx, cell: Organisation) -> Rubric:
    return load_rubric(ctx.settings.rubrics_dir, cell.rubric_id or ctx.settings.rubric)


def current_score(s: Session, meeting_id: int, kind: str = ScoreKind.CELL.value) -> Score | None:
    return s.exec(select(Score).where(Score.meeting_id == meeting_id, Score.kind == kind,
                                      Score.is_current == True)).first()  # noqa: E712


def first_score(s: Session, meeting_id: int) -> Score | None:
    return s.exec(select(Score).where(Score.meeting_id == meeting_id,
                                      Score.kind == ScoreKind.CELL.value)
                  .order_by(Score.revision)).first()


def correction_open(ctx: Ctx, meeting: Meeting) -> bool:
    window = timedelta(days=ctx.settings.cycle.correction_window_days)
    first = first_score(ctx.session, meeting.id or 0)
    if first is None:
        return True
    if ctx.now() <= first.submitted_at + window:
        return True
    return meeting.score_reopened_at is not None and \
        ctx.now() <= meeting.score_reopened_at + window


def gtitle(g: Group) -> str:
    return g.title_en if current_locale() == "en" and g.title_en else g.title


def ctitle(c: Any) -> str:
    return c.title_en if current_locale() == "en" and c.title_en else c.title


class ScoringForm(CellForm):
    kind = "scoring"

    def rubric(self, ctx: Ctx, data: Data) -> Rubric:
        return load_rubric(ctx.settings.rubrics_dir, data["rubric"])

    def manual(self, ctx: Ctx, data: Data, g: Group) -> list[Any]:
        auto = data["auto"]
        return [c for c in g.criteria if c.id not in auto or auto[c.id][0] is None]

    def points(self, ctx: Ctx, data: Data) -> dict[str, float]:
        """Every criterion's points so far (auto, corrected task share, manual answers)."""
        pts = {cid: p for cid, (p, _n) in data["auto"].items() if p is not None}
        fix = data.get("tasks_fix")
        if fix:
            rubric = self.rubric(ctx, data)
            for c in rubric.criteria():
                if c.auto == "tasks_done":
                    pts[c.id] = tasks_share_points(c, fix[0])
        pts.update(data.get("manual", {}))
        return pts

    def _group_prompt(self, ctx: Ctx, data: Data, g: Group, i: int) -> str:
        thematic = data["thematic"]
        rubric = self.rubric(ctx, data)
        lines = [_("Nhóm {i}. {title} (tối đa {max} điểm)").format(
            i=i, title=gtitle(g), max=fmt_number(g.max))]
        auto = data["auto"]
        for c in g.criteria:
            if c.id in auto and auto[c.id][0] is not None:
                lines.append(f"  🤖 {ctitle(c)}: {fmt_number(auto[c.id][0])}/"
                             f"{fmt_number(rubric.effective_max(c, thematic))} — {auto[c.id][1]}")
        for n, c in enumerate(self.manual(ctx, data, g), 1):
            note = f" ({auto[c.id][1]})" if c.id in auto else ""
            lines.append(f"  {n}) {ctitle(c)}: 0–{fmt_number(rubric.effective_max(c, thematic))}"
                         f"{note}")
        lines.append(_("Gửi lần lượt điểm các mục 1), 2)… cách nhau bằng dấu cách, hoặc “đủ” "
                       "nếu đạt tối đa. Tổng điểm đến lúc này: {total}.").format(
            total=fmt_number(sum(self.points(ctx, data).values()))))
        return "\n".join(lines)

    def _parse_group(self, ctx: Ctx, data: Data, g: Group, text: str) -> dict[str, float]:
        crits = self.manual(ctx, data, g)
        rubric = self.rubric(ctx, data)
        maxima = [rubric.effective_max(c, data["thematic"]) for c in crits]
        if fold(text) in FULL_WORDS:
            return {c.id: mx for c, mx in zip(crits, maxima, strict=True)}
        parts = [p for p in re.split(r"[\s;/]+", text.strip()) if p]
        if len(parts) != len(crits):
            raise Invalid(_("Cần đúng {n} số (mỗi mục một số), đồng chí đã gửi {k}.").format(
                n=len(crits), k=len(parts)))
        out = {}
        for i, (c, mx, part) in enumerate(zip(crits, maxima, parts, strict=True), 1):
            try:
                out[c.id] = float(parse_number(part, 0, mx))
            except Invalid as exc:
                raise Invalid(_("Mục {i}) {title}: {reason}").format(
                    i=i, title=ctitle(c), reason=exc)) from None
        return out

    def store(self, ctx: Ctx, data: Data, step: Step, value: Any) -> None:
        if step.name.startswith("g:"):
            data["manual"] = {**data.get("manual", {}), **value}
        else:
            data[step.name] = value

    def steps(self, ctx: Ctx, data: Data) -> list[Step]:
        rubric = self.rubric(ctx, data)
        steps: list[Step] = []
        for i, g in enumerate(rubric.groups, 1):
            if not self.manual(ctx, data, g):
                continue
            steps.append(Step(
                f"g:{g.id}",
                lambda c, d, g=g, i=i: self._group_prompt(c, d, g, i),
                parse=lambda c, d, t, g=g: self._parse_group(c, d, g, t)))
        has_tasks_auto = any(c.auto == "tasks_done" and data["auto"].get(c.id, [None])[0]
                             is not None for c in rubric.criteria())
        steps.append(Step(
            "tasks_fix", lambda c, d: _("Tỷ lệ hoàn thành nhiệm vụ tháng trước do bot tính: "
                                        "{note}. Nếu cần điều chỉnh, gửi tỷ lệ % mới kèm lý do "
                                        "(ví dụ “85 một việc chuyển sang tháng sau”).").format(
                note=next(v[1] for k, v in d["auto"].items()
                          if rubric.criterion(k).auto == "tasks_done")),
            parse=_parse_fix, optional=True, when=lambda c, d: has_tasks_auto))
        steps.append(Step("conclusion", lambda c, d: _("Kết luận / nghị quyết của buổi sinh "
                                                      "hoạt (sẽ gửi tới đảng viên):"),
                          parse=lambda c, d, t: parse_text(t, max_len=2000),
                          when=lambda c, d: not d.get("correction")))
        steps.append(Step("tasks", lambda c, d: self._tasks_prompt(c, d),
                          parse=lambda c, d, t: self._parse_task(c, d, t),
                          choices=lambda c, d: [Choice(None, _("Xong"))], repeat=True,
                          when=lambda c, d: not d.get("correction")))
        steps.append(Step("reason", lambda c, d: _("Lý do sửa điểm (ghi vào nhật ký):"),
                          parse=lambda c, d, t: parse_text(t, max_len=300),
                          when=lambda c, d: bool(d.get("correction"))))
        return steps

    def _members(self, ctx: Ctx, data: Data) -> list[Member]:
        return cell_members(ctx.session, cell_id=data["cell_id"])

    def _tasks_prompt(self, ctx: Ctx, data: Data) -> str:
        names = ", ".join(f"{i}. {m.full_name}" for i, m in
                          enumerate(self._members(ctx, data), 1))
        return _("Nhiệm vụ thứ {n} giao cho đảng viên: gửi “số thứ tự | nội dung | hạn "
                 "ngày/tháng” (hạn không bắt buộc). Bấm Xong khi đủ.\n{names}").format(
            n=len(data.get("tasks", [])) + 1, names=names)

    def _parse_task(self, ctx: Ctx, data: Data, text: str) -> dict[str, Any]:
        parts = [p.strip() for p in text.split("|")]
        if len(parts) not in (2, 3):
            raise Invalid(_("Cần dạng “số thứ tự | nội dung | hạn”, ví dụ “3 | Hoàn thành báo "
                            "cáo quý | 15/12”."))
        members = self._members(ctx, data)
        who = parts[0]
        if (n := as_id(who)) is not None and n <= len(members):
            member = members[n - 1]
        else:
            hits = [m for m in members if fold(who) and fold(who) in fold(m.full_name)]
            if len(hits) != 1:
                raise Invalid(_("Không xác định được đảng viên “{who}” trong chi bộ.").format(
                    who=who[:40]))
            member = hits[0]
        due = parse_date(parts[2], ctx.now().date()).isoformat() \
            if len(parts) == 3 and parts[2] else None
        return {"member": member.id, "text": parse_text(parts[1], max_len=500), "due": due}

    def summary(self, ctx: Ctx, data: Data) -> str:
        rubric = self.rubric(ctx, data)
        pts = self.points(ctx, data)
        thematic = data["thematic"]
        lines = []
        for i, g in enumerate(rubric.groups, 1):
            got = sum(pts.get(c.id, 0) for c in g.criteria)
            lines.append(f"{i}. {gtitle(g)}: {fmt_number(got)}/{fmt_number(g.max)}")
        total, band = rubric.rate(pts, thematic)
        lines.append(_("Tổng điểm: {total}/{max} — Xếp loại: {band}").format(
            total=fmt_number(total), max=fmt_number(rubric.total), band=label(band)))
        plain = next((b for b in rubric.bands if total + 1e-9 >= b.min), None)
        if plain is not None and plain.id != band:
            lines.append(_("(Chưa xếp loại {band} vì chưa đạt tối đa các tiêu chí: {crits}.)")
                         .format(band=label(plain.id), crits=", ".join(
                             ctitle(rubric.criterion(c)) for c in plain.requires_full)))
        if data.get("tasks_fix"):
            lines.append(_("Tỷ lệ nhiệm vụ điều chỉnh: {p}% — {r}").format(
                p=fmt_number(data["tasks_fix"][0]), r=data["tasks_fix"][1]))
        if data.get("conclusion"):
            lines.append(_("Kết luận: {text}").format(text=data["conclusion"]))
        members = {m.id: m.full_name for m in self._members(ctx, data)}
        for t in data.get("tasks", []):
            due = fmt_date(date.fromisoformat(t["due"])) if t.get("due") else "—"
            lines.append(f"• {t['text']} — {members.get(t['member'], '?')} ({due})")
        if data.get("reason"):
            lines.append(_("Lý do sửa: {r}").format(r=data["reason"]))
        return "\n".join(lines)

    def finish(self, ctx: Ctx, data: Data) -> None:
        s = ctx.session
        m = self.meeting(ctx, data)
        cell = self.cell(ctx, data)
        if m is None or cell is None or m.status != MeetingStatus.HELD.value:
            ctx.reply(_("Buổi sinh hoạt này không thể chấm điểm."))
            return
        prev = current_score(s, m.id or 0)
        if (prev is None) == bool(data.get("correction")) or not correction_open(ctx, m):
            ctx.reply(_("Điểm của buổi sinh hoạt này đã thay đổi trong lúc đồng chí nhập; "
                        "đồng chí vui lòng mở lại /chamdiem."))
            return
        rubric = self.rubric(ctx, data)
        pts = self.points(ctx, data)
        total, band = rubric.rate(pts, data["thematic"])
        actor_id = ctx.actor.member.id if ctx.actor.member else None
        score = save_score(s, m, rubric, pts, set(data["auto"]), kind=ScoreKind.CELL.value,
                           by=actor_id, now=ctx.now(), reason=data.get("reason")
                           or (data["tasks_fix"][1] if data.get("tasks_fix") else None))
        audit(s, "score.corrected" if prev else "score.submitted", "meeting", m.id, actor_id,
              total=total, rating=band, revision=score.revision,
              previous=prev.total if prev else None, reason=data.get("reason"))
        if not data.get("correction"):
            m.conclusion = data.get("conclusion")
            s.add(m)
            for t in data.get("tasks", []):
                s.add(Task(meeting_id=m.id or 0, assignee_id=t["member"], description=t["text"],
                           due_date=date.fromisoformat(t["due"]) if t.get("due") else None,
                           created_at=ctx.now()))
            s.flush()
            post_conclusion(s, m, cell, ctx.now())
        notify_followers(s, m, cell, score, ctx.now())
        ctx.reply(_("Đã ghi điểm: {total} — {band}.").format(total=fmt_number(total),
                                                          band=label(band)))


def _parse_fix(ctx: Ctx, data: Data, text: str) -> list[Any]:
    m = re.match(r"^\s*(\d+(?:[.,]\d+)?)\s*%?\s*(.*)$", text)
    if not m:
        raise Invalid(_("Cần dạng “tỷ lệ lý do”, ví dụ “85 một việc chuyển sang tháng sau”."))
    pct = float(parse_number(m.group(1), 0, 100))
    reason = m.group(2).strip()
    if not reason:
        raise Invalid(_("Điều chỉnh tỷ lệ cần ghi lý do."))
    return [pct, reason[:300]]


def save_score(s: Session, m: Meeting, rubric: Rubric, pts: dict[str, float], auto: set[str],
               *, kind: str, by: int | None, now: datetime, reason: str | None) -> Score:
    """A new current revision of the meeting's score of ``kind``; the old stays, not current."""
    total, band = rubric.rate(pts, is_thematic(m))
    old = current_score(s, m.id or 0, kind)
    revision = 1
    if old is not None:
        old.is_current = False
        s.add(old)
        revision = old.revision + 1
    score = Score(meeting_id=m.id or 0, kind=kind, revision=revision, rubric_id=rubric.id,
                  rubric_version=rubric.version, total=total, rating=band, submitted_by=by,
                  submitted_at=now, reason=reason)
    s.add(score)
    s.flush()
    for cid, p in pts.items():
        s.add(ScoreItem(score_id=score.id or 0, criterion_id=cid, points=p, auto=cid in auto))
    return score


def post_conclusion(s: Session, m: Meeting, cell: Organisation, now: datetime) -> None:
    with use_locale(cell.locale):
        lines = [_("📄 KẾT LUẬN BUỔI SINH HOẠT"), title_line(m, cell), m.conclusion or ""]
        tasks = list(s.exec(select(Task).where(Task.meeting_id == m.id)))
        if tasks:
            lines.append(_("Nhiệm vụ được giao:"))
            for t in tasks:
                who = s.get(Member, t.assignee_id) if t.assignee_id else None
                due = _(" (hạn {date})").format(date=fmt_date(t.due_date)) if t.due_date else ""
                lines.append(f"• {t.description} — {who.full_name if who else ''}{due}")
        text = "\n".join(lines)
    if not send_group(s, cell.id or 0, text, f"m{m.id}:conclusion", now=now):
        for member in cell_members(s, cell_id=cell.id or 0):
            if member.due_to_attend:
                send_private(s, member, text, f"m{m.id}:conclusion:p{member.id}", now=now)


def notify_followers(s: Session, m: Meeting, cell: Organisation, score: Score,
                     now: datetime) -> None:
    for f in members_with_role(s, org_id=cell.id or 0, roles=(Role.FOLLOWER.value,)):
        with use_locale(f.locale):
            send_private(s, f, _("{cell} đã chấm điểm buổi sinh hoạt {when}: {total} — {band} "
                                 "(lần {rev}). Đồng chí xác nhận hoặc điều chỉnh:").format(
                cell=cell.name, when=fmt_datetime(m.scheduled_at, m.timezone),
                total=fmt_number(score.total), band=label(score.rating), rev=score.revision),
                f"m{m.id}:scored:{score.revision}:f{f.id}", now=now,
                buttons=buttons([(_("✅ Xác nhận"), f"cf:{m.id}"),
                                 (_("✏️ Điều chỉnh"), f"ca:{m.id}")]))


forms.register(ScoringForm())


def scorable(s: Session, cell_id: int, now: datetime) -> list[Meeting]:
    return list(s.exec(select(Meeting).where(
        Meeting.cell_id == cell_id, Meeting.status == MeetingStatus.HELD.value,
        Meeting.scheduled_at >= now - timedelta(days=60)).order_by(Meeting.scheduled_at.desc())
        .limit(6)))


def _start_scoring(ctx: Ctx, meeting_id: str | None) -> None:
    cell = led_cell(ctx)
    if cell is None:
        ctx.deny("not a cell leader")
        return
    s = ctx.session
    if meeting_id is None:
        candidates = [m for m in scorable(s, cell.id or 0, ctx.now())
                      if current_score(s, m.id or 0) is None]
        if not candidates:
            ctx.reply(_("Không có buổi sinh hoạt nào đang chờ chấm điểm. Để sửa điểm đã chấm: "
                        "/chamdiem SỐ_BUỔI."))
            return
        meeting: Meeting | None = candidates[0]
    else:
        meeting = ctx.by_id(Meeting, meeting_id)
    if meeting is None or meeting.cell_id != cell.id:
        ctx.deny(f"scoring meeting {meeting_id}")
        return
    if meeting.status == MeetingStatus.PLANNED.value:
        ctx.reply(_("Buổi sinh hoạt chưa được điểm danh; đồng chí điểm danh trước (/diemdanh)."))
        return
    if meeting.status != MeetingStatus.HELD.value:
        ctx.reply(_("Buổi sinh hoạt không đủ điều kiện hoặc đã hủy: không chấm điểm."))
        return
    correction = current_score(s, meeting.id or 0) is not None
    if correction and not correction_open(ctx, meeting):
        ctx.reply(_("Đã quá {d} ngày kể từ khi chấm; chỉ cấp ủy cơ sở có thể mở lại việc sửa "
                    "điểm (/mochamdiem {id}).").format(
            d=ctx.settings.cycle.correction_window_days, id=meeting.id))
        return
    rubric = rubric_for(ctx, cell)
    auto = {cid: [a.points, a.note] for cid, a in compute(s, rubric, meeting).items()}
    data = {"cell_id": cell.id, "meeting": meeting.id, "meeting_fixed": True,
            "rubric": rubric.id, "auto": auto, "thematic": is_thematic(meeting),
            "correction": correction}
    if not ctx.in_group:
        ctx.reply(_("Chấm điểm {meeting} theo {rubric} ({doc}).").format(
            meeting=meeting_label(meeting), rubric=rubric.title, doc=rubric.document))
    forms.start_private(ctx, "scoring", data)


@command("chamdiem", "score", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Chấm điểm chất lượng buổi sinh hoạt (Bí thư, Phó Bí thư)"))
def score_cmd(ctx: Ctx, args: list[str], rest: str) -> None:
    _start_scoring(ctx, args[0] if args else None)


@callback("sc", who=Who.LINKED)
def score_button(ctx: Ctx, parts: list[str]) -> None:
    _start_scoring(ctx, parts[0] if parts else "")


@command("mochamdiem", "reopen", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Mở lại việc sửa điểm đã quá hạn (cấp ủy cơ sở)"))
def reopen(ctx: Ctx, args: list[str], rest: str) -> None:
    s = ctx.session
    meeting = ctx.by_id(Meeting, args[0] if args else None)
    cell = s.get(Organisation, meeting.cell_id) if meeting else None
    if meeting is None or cell is None or not oversees(s, ctx.actor, cell):
        ctx.deny("reopen scoring")
        return
    meeting.score_reopened_at = ctx.now()
    s.add(meeting)
    audit(s, "score.reopened", "meeting", meeting.id,
          ctx.actor.member.id if ctx.actor.member else None)
    for leader in members_with_role(s, org_id=cell.id or 0,
                                    roles=(Role.SECRETARY.value, Role.DEPUTY.value)):
        with use_locale(leader.locale):
            send_private(s, leader, _("Cấp ủy đã mở lại việc sửa điểm buổi sinh hoạt {when} "
                                      "trong {d} ngày: /chamdiem {id}").format(
                when=fmt_datetime(meeting.scheduled_at, meeting.timezone),
                d=ctx.settings.cycle.correction_window_days, id=meeting.id),
                f"reopen:{meeting.id}:{ctx.incoming.update_id}:{leader.id}", now=ctx.now())
    ctx.reply(_("Đã mở lại việc sửa điểm cho {cell}.").format(cell=cell.name))


# -- confirmation by the assigned upper-level committee member ------------------------------
def _followed_meeting(ctx: Ctx, parts: list[str]) -> tuple[Meeting, Organisation,
                                                           Score] | None:
    s = ctx.session
    meeting = ctx.by_id(Meeting, parts[0] if parts else None)
    cell = s.get(Organisation, meeting.cell_id) if meeting else None
    if meeting is None or cell is None or not follows_cell(ctx.actor, cell.id or 0):
        ctx.deny("confirm score")
        return None
    score = current_score(s, meeting.id or 0)
    if score is None:
        ctx.reply(_("Buổi sinh hoạt này chưa được chi bộ chấm điểm."))
        return None
    return meeting, cell, score


def _items(s: Session, score: Score) -> dict[str, float]:
    return {i.criterion_id: i.points for i in s.exec(
        select(ScoreItem).where(ScoreItem.score_id == score.id))}


@callback("cf", who=Who.LINKED)
def confirm_button(ctx: Ctx, parts: list[str]) -> None:
    found = _followed_meeting(ctx, parts)
    if found is None:
        return
    meeting, cell, score = found
    rubric = load_rubric(ctx.settings.rubrics_dir, score.rubric_id)
    actor_id = ctx.actor.member.id if ctx.actor.member else None
    confirmed = save_score(ctx.session, meeting, rubric, _items(ctx.session, score), set(),
                           kind=ScoreKind.CONFIRMED.value, by=actor_id, now=ctx.now(),
                           reason=None)
    audit(ctx.session, "score.confirmed", "meeting", meeting.id, actor_id,
          total=confirmed.total, of_revision=score.revision)
    ctx.reply(_("Đã xác nhận điểm {total} — {band} của {cell}.").format(
        total=fmt_number(confirmed.total), band=label(confirmed.rating), cell=cell.name),
        toast=True)


class AdjustForm(CellForm):
    """The follower gives a total per group; unchanged groups keep the cell's items."""

    kind = "adjust_score"

    def authorised(self, ctx: Ctx, data: Data) -> bool:
        return follows_cell(ctx.actor, data.get("cell_id") or 0)

    def rubric(self, ctx: Ctx, data: Data) -> Rubric:
        return load_rubric(ctx.settings.rubrics_dir, data["rubric"])

    def steps(self, ctx: Ctx, data: Data) -> list[Step]:
        rubric = self.rubric(ctx, data)
        cell_pts: dict[str, float] = data["cell_points"]

        def prompt(c: Ctx, d: Data) -> str:
            lines = [_("Điểm từng nhóm theo chi bộ chấm:")]
            for i, g in enumerate(rubric.groups, 1):
                got = sum(cell_pts.get(cr.id, 0) for cr in g.criteria)
                lines.append(f"{i}. {gtitle(g)}: {fmt_number(got)}/{fmt_number(g.max)}")
            lines.append(_("Gửi {n} số là điểm đồng chí xác nhận cho từng nhóm, theo thứ tự.")
                         .format(n=len(rubric.groups)))
            return "\n".join(lines)

        def parse(c: Ctx, d: Data, t: str) -> list[float]:
            parts = [p for p in re.split(r"[\s;/]+", t.strip()) if p]
            if len(parts) != len(rubric.groups):
                raise Invalid(_("Cần đúng {n} số (mỗi nhóm một số), đồng chí đã gửi {k}.")
                              .format(n=len(rubric.groups), k=len(parts)))
            return [float(parse_number(p, 0, g.max)) for p, g in
                    zip(parts, rubric.groups, strict=True)]

        return [Step("groups", prompt, parse=parse),
                Step("reason", lambda c, d: _("Lý do điều chỉnh:"),
                     parse=lambda c, d, t: parse_text(t, max_len=300))]

    def adjusted(self, ctx: Ctx, data: Data) -> dict[str, float]:
        rubric = self.rubric(ctx, data)
        cell_pts: dict[str, float] = data["cell_points"]
        meeting = self.meeting(ctx, data)
        thematic = is_thematic(meeting) if meeting else False
        out: dict[str, float] = {}
        for g, total in zip(rubric.groups, data["groups"], strict=True):
            got = sum(cell_pts.get(cr.id, 0) for cr in g.criteria)
            if abs(got - total) < 1e-9:
                out.update({cr.id: cell_pts.get(cr.id, 0) for cr in g.criteria})
            elif abs(total - g.max) < 1e-9:
                out.update({cr.id: rubric.effective_max(cr, thematic) for cr in g.criteria})
            else:
                out[f"group:{g.id}"] = total
        return out

    def summary(self, ctx: Ctx, data: Data) -> str:
        meeting = self.meeting(ctx, data)
        total, band = self.rubric(ctx, data).rate(self.adjusted(ctx, data),
                                                  is_thematic(meeting) if meeting else False)
        return _("Điểm xác nhận: {total} — {band}.\nLý do: {reason}").format(
            total=fmt_number(total), band=label(band), reason=data["reason"])

    def finish(self, ctx: Ctx, data: Data) -> None:
        meeting = self.meeting(ctx, data)
        if meeting is None:
            return
        actor_id = ctx.actor.member.id if ctx.actor.member else None
        score = save_score(ctx.session, meeting, self.rubric(ctx, data),
                           self.adjusted(ctx, data), set(), kind=ScoreKind.CONFIRMED.value,
                           by=actor_id, now=ctx.now(), reason=data["reason"])
        audit(ctx.session, "score.adjusted", "meeting", meeting.id, actor_id,
              total=score.total, reason=data["reason"])
        ctx.reply(_("Đã ghi điểm xác nhận: {total} — {band}.").format(
            total=fmt_number(score.total), band=label(score.rating)))


forms.register(AdjustForm())


@callback("ca", who=Who.LINKED)
def adjust_button(ctx: Ctx, parts: list[str]) -> None:
    found = _followed_meeting(ctx, parts)
    if found is None:
        return
    meeting, cell, score = found
    forms.start_private(ctx, "adjust_score", {
        "cell_id": cell.id, "meeting": meeting.id, "meeting_fixed": True,
        "rubric": score.rubric_id, "cell_points": _items(ctx.session, score)})
