"""Criteria decided after the score: "final documents shared within 2 days" (hd42
shared_in_time) can only be known once the nghị quyết goes out and the documents are on
Sổ tay, which is after the meeting is scored. At scoring it stands at 0, computed, with
a note; when the conclusion goes out (the resolution issued, /sotay sau recorded) the bot
recomputes it: a changed value makes a new score revision (by the bot, audited) and the
follower above is told."""

from __future__ import annotations

from sqlmodel import select

from handlers.core.context import Ctx, buttons
from handlers.core.labels import label
from handlers.core.notify import send_private
from handlers.scoring.autoscore import CALCULATORS
from handlers.scoring.store import ctitle, current_score, save_score
from models.audit import audit
from models.i18n import _, fmt_datetime, fmt_number, use_locale
from models.meeting import Meeting
from models.member import Role, members_with_role
from models.org import Organisation
from models.records import record_of
from models.rubric import load_rubric
from models.score import Score, ScoreItem, ScoreKind

LATE = ("shared_in_time",)


def refresh_late(ctx: Ctx, m: Meeting, cell: Organisation) -> Score | None:
    """Recompute the late criteria of the meeting's current cell score; the new revision,
    or None when nothing changed (a value the secretary overrode is left alone)."""
    s = ctx.session
    score = current_score(s, m.id or 0)
    if score is None:
        return None
    rubric = load_rubric(ctx.settings.rubrics_dir, score.rubric_id)
    items = {i.criterion_id: i for i in s.exec(select(ScoreItem).where(
        ScoreItem.score_id == score.id))}
    rec = record_of(s, m.id or 0)
    overridden = set(rec.overrides) if rec and rec.overrides else set()
    changed: dict[str, tuple[float, float]] = {}
    titles = {}
    for c in rubric.criteria():
        item = items.get(c.id)
        if c.auto not in LATE or item is None or not item.auto or c.id in overridden:
            continue
        now_points = CALCULATORS[c.auto](s, m, c).points or 0.0
        if now_points != item.points:
            changed[c.id] = (item.points, now_points)
            titles[c.id] = ctitle(c)
    if not changed:
        return None
    pts = {cid: i.points for cid, i in items.items()} | {k: v[1] for k, v in changed.items()}
    auto = {cid for cid, i in items.items() if i.auto}
    reason = _("bot tự cập nhật khi văn bản kết luận được gửi")
    new = save_score(s, m, rubric, pts, auto, kind=ScoreKind.CELL.value, by=None,
                     now=ctx.now(), reason=reason)
    audit(s, "score.auto_updated", "meeting", m.id, None, revision=new.revision,
          previous=score.total, total=new.total, rating=new.rating,
          criteria={k: list(v) for k, v in changed.items()})
    for f in members_with_role(s, org_id=cell.id or 0, roles=(Role.FOLLOWER.value,)):
        with use_locale(f.locale):
            what = "; ".join(f"{titles[k]}: {fmt_number(a)} → {fmt_number(b)}"
                             for k, (a, b) in changed.items())
            send_private(s, f, _("Điểm buổi sinh hoạt {when} của {cell} tự cập nhật khi văn "
                                 "bản kết luận được gửi: {what}. Tổng điểm {old} → {total} — "
                                 "{band} (lần {rev}). Đồng chí xác nhận hoặc điều chỉnh:").format(
                when=fmt_datetime(m.scheduled_at, m.timezone), cell=cell.name, what=what,
                old=fmt_number(score.total), total=fmt_number(new.total),
                band=label(new.rating), rev=new.revision),
                f"m{m.id}:late:{new.revision}:f{f.id}", now=ctx.now(),
                buttons=buttons([(_("✅ Xác nhận"), f"cf:{m.id}"),
                                 (_("✏️ Điều chỉnh"), f"ca:{m.id}")]))
    return new
