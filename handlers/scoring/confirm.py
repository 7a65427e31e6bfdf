"""After the cell scores: the follower above confirms or adjusts (both scores kept); an
officer above the cell reopens corrections after the window."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from handlers.core.access import follows_cell
from handlers.core.context import Ctx
from handlers.core.labels import label
from handlers.core.router import Where, Who, callback, command
from handlers.forms import engine as forms
from handlers.forms.cellform import CellForm
from handlers.forms.engine import Invalid, Step
from handlers.forms.named import meeting_ref
from handlers.forms.validators import parse_text
from handlers.scoring.autoscore import is_thematic
from handlers.scoring.reopen import overseen_meeting, reopened
from handlers.scoring.store import current_score, gtitle, save_score
from handlers.scoring.typed import read_points, score_tokens
from models.audit import audit
from models.i18n import N_, _, fmt_datetime, fmt_number
from models.meeting import Meeting
from models.org import Organisation
from models.rubric import Rubric, load_rubric
from models.score import Score, ScoreItem, ScoreKind

Data = dict[str, Any]


@command("mochamdiem", "reopen", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Mở lại việc sửa điểm đã quá hạn (cấp ủy cơ sở)"))
def reopen(ctx: Ctx, args: list[str], rest: str) -> None:
    found = overseen_meeting(ctx, args, "reopen scoring", "mochamdiem")
    if found is None:
        return
    meeting, cell = found
    meeting.score_reopened_at = ctx.now()
    ctx.session.add(meeting)
    reopened(ctx, meeting, cell, "score.reopened", "reopen", lambda: _(
        "Cấp ủy đã mở lại việc sửa điểm buổi sinh hoạt {when} trong {d} ngày: "
        "/chamdiem {ref}").format(when=fmt_datetime(meeting.scheduled_at, meeting.timezone),
                                  d=ctx.settings.cycle.correction_window_days,
                                  ref=meeting_ref(meeting)))
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
            # As the scoring form reads them: "18/20" is 18 out of the group's 20 (the
            # prompt shows the groups that way), "5 điểm" is 5, "năm" is 5.
            parts = score_tokens(t)
            if len(parts) != len(rubric.groups):
                raise Invalid(_("Cần đúng {n} số (mỗi nhóm một số), đồng chí đã gửi {k}.")
                              .format(n=len(rubric.groups), k=len(parts)))
            return read_points(parts, [(gtitle(g), g.max) for g in rubric.groups])

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
