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
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from handlers.core.context import Ctx
from handlers.core.labels import label, rubric_source
from handlers.core.router import Where, Who, callback, command
from handlers.forms import engine as forms
from handlers.forms.cellform import CellForm, led_cell, meeting_label
from handlers.forms.engine import SKIP_WORDS, Again, Choice, Invalid, Step
from handlers.forms.named import choose, meeting_ref
from handlers.forms.validators import parse_deadline, parse_number, parse_text
from handlers.records.data import recorded_conclusions
from handlers.records.resolution import issue_if_ready
from handlers.records.sotay import record_tapped, tap_question
from handlers.records.tasks import plan_task_reminders
from handlers.scoring.autoscore import compute, is_thematic, tasks_share_points
from handlers.scoring.correction import (
    auto_changes,
    changes_lines,
    parse_pick,
    pick_prompt,
    saved_manual,
)
from handlers.scoring.display import (
    band_explanation,
    computed,
    computed_lines,
    group_header,
    shown_total,
)
from handlers.scoring.notices import notify_followers, post_conclusion
from handlers.scoring.store import (
    correction_open,
    ctitle,
    current_score,
    gtitle,
    rubric_for,
    save_score,
)
from handlers.scoring.typed import count_error, read_each, score_tokens
from models.audit import audit
from models.i18n import N_, _, fmt_date, fmt_datetime, fmt_number
from models.meeting import Meeting, MeetingStatus, Task
from models.member import Member, cell_members
from models.org import Organisation
from models.rubric import Group, Rubric, load_rubric
from models.score import ScoreKind
from models.text import as_id, fold

Data = dict[str, Any]
FULL_WORDS = {"du", "du diem", "full", "toi da"}

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
        """The group's computed criteria first (with those of the fully computed groups
        just before it, which have no step of their own), then what is asked; the total
        counts only the groups shown so far."""
        thematic = data["thematic"]
        rubric = self.rubric(ctx, data)
        auto = data["auto"]
        pts = self.points(ctx, data)
        lines: list[str] = []
        for j in range(i - 1, 0, -1):  # the computed-only groups right before this one
            if self.manual(ctx, data, rubric.groups[j - 1]):
                break
        else:
            j = 0
        for k in range(j + 1, i):
            og = rubric.groups[k - 1]
            lines += [group_header(og, k), *computed_lines(rubric, og, auto, thematic, pts)]
        lines += [group_header(g, i), *computed_lines(rubric, g, auto, thematic, pts)]
        for n, c in enumerate(self.manual(ctx, data, g), 1):
            note = f" ({auto[c.id][1]})" if c.id in auto else ""
            lines.append(f"  {n}) {ctitle(c)}: 0–{fmt_number(rubric.effective_max(c, thematic))}"
                         f"{note}")
        shown = {c.id: p for c, p in ((c, pts.get(c.id)) for c in g.criteria)
                 if computed(auto, c) and p is not None}
        total = shown_total(rubric.groups[:i - 1], pts) + sum(shown.values())
        lines.append(_("Gửi lần lượt điểm các mục 1), 2)… cách nhau bằng dấu cách, hoặc “đủ” "
                       "nếu đạt tối đa. Tổng điểm đến lúc này: {total}.").format(
            total=fmt_number(total)))
        return "\n".join(lines)

    def _parse_group(self, ctx: Ctx, data: Data, g: Group, text: str) -> dict[str, float]:
        crits = self.manual(ctx, data, g)
        rubric = self.rubric(ctx, data)
        maxima = [rubric.effective_max(c, data["thematic"]) for c in crits]
        if fold(text) in FULL_WORDS:
            return {c.id: mx for c, mx in zip(crits, maxima, strict=True)}
        if fold(text) in SKIP_WORDS:
            raise Invalid(_("Nhóm này cần điểm, không bỏ qua được: gửi {n} số, hoặc “đủ” nếu "
                            "đạt tối đa.").format(n=len(crits)))
        parts = score_tokens(text)
        # A typo in one item keeps the others: only the items refused are asked again.
        kept: list[float | None] | None = (data.get("_partial") or {}).get(g.id)
        todo = [k for k, v in enumerate(kept or []) if v is None]
        if kept is not None and todo and len(parts) == len(todo) != len(crits):
            values: list[float | None] = list(kept)
        elif len(parts) == len(crits):
            values, todo = [None] * len(crits), list(range(len(crits)))
        else:
            raise Invalid(count_error(parts, len(crits)))
        got, errors = read_each(parts, [(ctitle(c), mx) for c, mx in zip(
            crits, maxima, strict=True)], todo)
        for k, v in got.items():
            values[k] = v
        if errors and any(v is not None for v in values):
            data["_partial"] = {**(data.get("_partial") or {}), g.id: values}
            again = ", ".join(f"{k + 1})" for k, v in enumerate(values) if v is None)
            raise Again("⚠️ " + "\n".join([*errors, _(
                "Các mục khác đã ghi; đồng chí chỉ gửi lại điểm mục {items}.").format(
                    items=again)]), short=True)
        if errors:
            raise Invalid("\n".join(errors))
        data["_partial"] = {k: v for k, v in (data.get("_partial") or {}).items() if k != g.id}
        return {c.id: float(v or 0) for c, v in zip(crits, values, strict=True)}

    def store(self, ctx: Ctx, data: Data, step: Step, value: Any) -> None:
        ask = data.get("sotay_ask")
        if step.name == "sotay_tap" and ask:  # one tap instead of a silent 0
            data["auto"] = {**data["auto"], ask["criterion"]: (
                [ask["max"], _("bí thư xác nhận đăng Sổ tay trước {h} giờ").format(
                    h=ask["hours"])] if value else data["auto"][ask["criterion"]])}
        if step.name.startswith("g:"):
            data["manual"] = {**data.get("manual", {}), **value}
        else:
            data[step.name] = value

    def steps(self, ctx: Ctx, data: Data) -> list[Step]:
        rubric = self.rubric(ctx, data)
        steps: list[Step] = []
        correction = bool(data.get("correction"))
        asked = [g for g in rubric.groups if self.manual(ctx, data, g)]
        if correction:  # start from the saved answers: ask only the groups picked
            steps.append(Step(
                "edit", lambda c, d: pick_prompt(rubric, d, asked, self.points(c, d)),
                parse=lambda c, d, t: parse_pick(rubric, d, asked, t)))
        steps.append(Step("sotay_tap", _sotay_prompt, choices=_sotay_choices,
                          when=lambda c, d: bool(d.get("sotay_ask"))))
        for i, g in enumerate(rubric.groups, 1):
            if g not in asked:
                continue
            steps.append(Step(
                f"g:{g.id}",
                lambda c, d, g=g, i=i: self._group_prompt(c, d, g, i),
                parse=lambda c, d, t, g=g: self._parse_group(c, d, g, t),
                when=(lambda c, d, g=g: g.id in d.get("edit", [])) if correction else None,
                sub=correction))
        has_tasks_auto = any(c.auto == "tasks_done" and data["auto"].get(c.id, [None])[0]
                             is not None for c in rubric.criteria())
        tasks_group = next((g.id for g in rubric.groups for c in g.criteria
                            if c.auto == "tasks_done"), None)
        steps.append(Step(
            "tasks_fix", lambda c, d: _("Tỷ lệ hoàn thành nhiệm vụ tháng trước do bot tính: "
                                        "{note}. Nếu cần điều chỉnh, gửi tỷ lệ % mới kèm lý do "
                                        "(ví dụ “85 một việc chuyển sang tháng sau”).").format(
                note=next(v[1] for k, v in d["auto"].items()
                          if rubric.criterion(k).auto == "tasks_done")),
            parse=_parse_fix, optional=True, sub=correction,
            when=lambda c, d: has_tasks_auto and (not correction
                                                  or tasks_group in d.get("edit", []))))
        steps.append(Step("conclusion", _conclusion_prompt,
                          parse=_parse_conclusion, choices=_conclusion_choices,
                          when=lambda c, d: not d.get("correction")))
        steps.append(Step("tasks", lambda c, d: self._tasks_prompt(c, d),
                          parse=lambda c, d, t: self._parse_task(c, d, t),
                          choices=lambda c, d: [Choice(None, _("Xong"))], repeat=True,
                          when=lambda c, d: not d.get("correction"),
                          short=lambda c, d: _("Nhiệm vụ thứ {n}, hoặc bấm Xong.").format(
                              n=len(d.get("tasks", [])) + 1)))
        steps.append(Step("reason", lambda c, d: _("Lý do sửa điểm (ghi vào nhật ký):"),
                          parse=lambda c, d, t: parse_text(t, max_len=300),
                          when=lambda c, d: bool(d.get("correction"))))
        return steps

    def _members(self, ctx: Ctx, data: Data) -> list[Member]:
        """Members who can be given a task: not those exempted from party work."""
        return [m for m in cell_members(ctx.session, cell_id=data["cell_id"]) if not m.exempted]

    def _tasks_prompt(self, ctx: Ctx, data: Data) -> str:
        n = len(data.get("tasks", [])) + 1
        if n > 1:  # the member list went with the first prompt: refer to it by number
            return _("Nhiệm vụ thứ {n}: gửi “số thứ tự | nội dung | hạn ngày/tháng” (số thứ tự "
                     "theo danh sách đảng viên ở trên). Bấm Xong khi đủ.").format(n=n)
        names = ", ".join(f"{i}. {m.full_name}" for i, m in
                          enumerate(self._members(ctx, data), 1))
        return _("Nhiệm vụ thứ {n} giao cho đảng viên: gửi “số thứ tự | nội dung | hạn "
                 "ngày/tháng” (hạn không bắt buộc). Bấm Xong khi đủ.\n{names}").format(
            n=n, names=names)

    def item_text(self, ctx: Ctx, data: Data, step: Step, item: Any) -> str:
        if step.name != "tasks":
            return super().item_text(ctx, data, step, item)
        who = ctx.session.get(Member, item["member"])
        due = fmt_date(date.fromisoformat(item["due"])) if item.get("due") else "—"
        return f"{item['text']} — {who.full_name if who else '?'} ({due})"

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
        cell = ctx.session.get(Organisation, data["cell_id"])
        today = ctx.now().astimezone(ZoneInfo(cell.timezone if cell else ctx.settings.timezone))
        due = parse_deadline(parts[2], today.date()).isoformat() \
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
        why = band_explanation(rubric, total, band, pts, thematic)
        if why:
            lines.append(why)
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
        lines += changes_lines(rubric, data)  # a computed change is seen before confirming
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
            if data.get("sotay_tap") and data.get("sotay_ask"):
                record_tapped(s, m, _when(data["sotay_ask"]["at"]), actor_id)
            new = [Task(meeting_id=m.id or 0, assignee_id=t["member"], description=t["text"],
                        due_date=date.fromisoformat(t["due"]) if t.get("due") else None,
                        created_at=ctx.now()) for t in data.get("tasks", [])]
            s.add_all(new)
            s.flush()
            plan_task_reminders(s, m, new, ctx.settings)
            post_conclusion(s, m, cell, ctx.now())
            issue_if_ready(ctx, m, cell)  # the nghị quyết, once the minutes are confirmed
            # Issuing it may have completed a late criterion (handlers/scoring/late.py).
            score = current_score(s, m.id or 0) or score
        notify_followers(s, m, cell, score, ctx.now())
        ctx.reply(_("Đã ghi điểm: {total} — {band}.").format(total=fmt_number(score.total),
                                                          band=label(score.rating)))


def _when(iso: str) -> datetime:
    at = datetime.fromisoformat(iso)
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def _sotay_prompt(ctx: Ctx, data: Data) -> str:
    m = ctx.session.get(Meeting, data["meeting"])
    at = fmt_datetime(_when(data["sotay_ask"]["at"]), m.timezone if m else "UTC")
    return _("Tài liệu buổi họp được bot gửi lúc {at} (trước {h} giờ), nhưng chưa ghi đăng lên "
             "Sổ tay đảng viên. Đồng chí đã đăng lên Sổ tay lúc đó?").format(
        at=at, h=data["sotay_ask"]["hours"])


def _sotay_choices(ctx: Ctx, data: Data) -> list[Choice]:
    return [Choice(True, _("Đã đăng lên Sổ tay")), Choice(False, _("Chưa đăng"))]


def _parse_fix(ctx: Ctx, data: Data, text: str) -> list[Any]:
    m = re.match(r"^\s*(\d+(?:[.,]\d+)?)\s*%?\s*(.*)$", text)
    if not m:
        raise Invalid(_("Cần dạng “tỷ lệ lý do”, ví dụ “85 một việc chuyển sang tháng sau”."))
    pct = float(parse_number(m.group(1), 0, 100))
    reason = m.group(2).strip()
    if not reason:
        raise Invalid(_("Điều chỉnh tỷ lệ cần ghi lý do."))
    return [pct, reason[:300]]


forms.register(ScoringForm())


def scorable(s: Session, cell_id: int, now: datetime) -> list[Meeting]:
    return list(s.exec(select(Meeting).where(
        Meeting.cell_id == cell_id, Meeting.status == MeetingStatus.HELD.value,
        Meeting.scheduled_at >= now - timedelta(days=60)).order_by(Meeting.scheduled_at.desc())
        .limit(6)))


def _minutes_conclusion(ctx: Ctx, data: forms.Data) -> str:
    """The conclusions already in the minutes, as one text ("" when there are none): the
    secretary need not type them again."""
    m = ctx.session.get(Meeting, data["meeting"]) if data.get("meeting") else None
    rows = recorded_conclusions(ctx.session, m) if m is not None else []
    return "\n".join(f"• {item}: {text}" if item else text for item, text in rows)[:2000]


def _conclusion_prompt(ctx: Ctx, data: forms.Data) -> str:
    ask = _("Kết luận / nghị quyết của buổi sinh hoạt (sẽ gửi tới đảng viên):")
    recorded = _minutes_conclusion(ctx, data)
    return ask + "\n" + _("Biên bản đã ghi kết luận:\n{text}\nChọn “Dùng kết luận trong biên "
                          "bản” (gửi “+ nội dung” để dùng và bổ sung) hoặc gửi kết luận khác."
                          ).format(text=recorded) if recorded else ask


def _conclusion_choices(ctx: Ctx, data: forms.Data) -> list[Choice]:
    recorded = _minutes_conclusion(ctx, data)
    return [Choice(recorded, _("Dùng kết luận trong biên bản"))] if recorded else []


def _parse_conclusion(ctx: Ctx, data: forms.Data, text: str) -> str:
    """"+ …": the minutes' conclusions with the words added (edited, not typed again)."""
    if text.lstrip().startswith("+") and (recorded := _minutes_conclusion(ctx, data)):
        text = recorded + "\n" + text.lstrip()[1:].strip()
    return parse_text(text, max_len=2000)


def _start_scoring(ctx: Ctx, named: str) -> None:
    """Score the meeting ``named`` ("12/2026", a button's id), or the only one waiting."""
    cell = led_cell(ctx)
    if cell is None:
        ctx.deny("not a cell leader")
        return
    s = ctx.session
    held = scorable(s, cell.id or 0, ctx.now())
    waiting = [m for m in held if current_score(s, m.id or 0) is None]
    picked = choose(ctx, [cell.id or 0], named, "chamdiem", cell.timezone,
                    default=waiting or held, single=bool(waiting), none_text=_(
                        "Không có buổi sinh hoạt nào đang chờ chấm điểm."))
    if picked is None:
        return
    meeting = picked[0]
    if meeting.status == MeetingStatus.PLANNED.value:
        ctx.reply(_("Buổi sinh hoạt chưa được điểm danh; đồng chí điểm danh trước (/diemdanh)."))
        return
    if meeting.status != MeetingStatus.HELD.value:
        ctx.reply(_("Buổi sinh hoạt không đủ điều kiện hoặc đã hủy: không chấm điểm."))
        return
    correction = current_score(s, meeting.id or 0) is not None
    if correction and not correction_open(ctx, meeting):
        ctx.reply(_("Đã quá {d} ngày kể từ khi chấm; chỉ cấp ủy cơ sở có thể mở lại việc sửa "
                    "điểm (/mochamdiem {ref}).").format(
            d=ctx.settings.cycle.correction_window_days, ref=meeting_ref(meeting)))
        return
    rubric = rubric_for(ctx, cell)
    auto = {cid: [a.points, a.note] for cid, a in compute(s, rubric, meeting).items()}
    data = {"cell_id": cell.id, "meeting": meeting.id, "meeting_fixed": True,
            "rubric": rubric.id, "auto": auto, "thematic": is_thematic(meeting),
            "correction": correction}
    if correction:
        data["manual"] = saved_manual(s, meeting.id or 0, auto)
        data["auto_changed"] = auto_changes(s, meeting.id or 0, rubric, auto)
    else:
        data["sotay_ask"] = tap_question(s, meeting, rubric.criteria())
    if not ctx.in_group:
        ctx.reply(_("Chấm điểm {meeting} theo {rubric} ({doc}).").format(
            meeting=meeting_label(meeting), rubric=rubric.title, doc=rubric_source(rubric)))
    forms.start_private(ctx, "scoring", data)


@command("chamdiem", "score", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Chấm điểm chất lượng buổi sinh hoạt (Bí thư, Phó Bí thư)"))
def score_cmd(ctx: Ctx, args: list[str], rest: str) -> None:
    _start_scoring(ctx, rest)


@callback("sc", who=Who.LINKED)
def score_button(ctx: Ctx, parts: list[str]) -> None:
    if len(parts) != 1 or not parts[0].isdigit():
        ctx.reply(_("Nút này không còn hiệu lực."), toast=True)
        return
    _start_scoring(ctx, f"#{parts[0]}")

