"""A correction of a submitted score starts from the saved answers: the secretary picks
the groups that change and is asked only those (plus the reason)."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, select

from handlers.forms.errors import Invalid
from handlers.scoring.store import current_score, gtitle
from models.i18n import _, fmt_number
from models.rubric import Group, Rubric
from models.score import ScoreItem

Data = dict[str, Any]


def saved_manual(s: Session, meeting_id: int, auto: Data) -> dict[str, float]:
    """The points the secretary entered in the current score: every saved criterion the
    bot does not compute now."""
    score = current_score(s, meeting_id)
    if score is None:
        return {}
    return {i.criterion_id: i.points for i in s.exec(
        select(ScoreItem).where(ScoreItem.score_id == score.id))
        if not (i.criterion_id in auto and auto[i.criterion_id][0] is not None)}


def pickable(rubric: Rubric, data: Data, asked: list[Group]) -> list[tuple[int, Group]]:
    """Groups that can be corrected: those with asked criteria, and the group of the
    computed task share (its rate can be adjusted with a reason)."""
    ids = {g.id for g in asked}
    return [(i, g) for i, g in enumerate(rubric.groups, 1)
            if g.id in ids or any(c.auto == "tasks_done" and data["auto"].get(c.id, [None])[0]
                                  is not None for c in g.criteria)]


def pick_prompt(rubric: Rubric, data: Data, asked: list[Group],
                points: dict[str, float]) -> str:
    lines = [_("Sửa điểm: điểm đã ghi từng nhóm như sau. Đồng chí gửi số các nhóm cần sửa "
               "(ví dụ “3 4”); các nhóm khác giữ nguyên.")]
    for i, g in pickable(rubric, data, asked):
        got = sum(points.get(c.id, 0) for c in g.criteria)
        lines.append(f"{i}. {gtitle(g)}: {fmt_number(got)}/{fmt_number(g.max)}")
    return "\n".join(lines)


def parse_pick(rubric: Rubric, data: Data, asked: list[Group], text: str) -> list[str]:
    allowed = dict(pickable(rubric, data, asked))
    numbers = [n for n in re.split(r"[\s,;]+", text.strip()) if n]
    chosen: list[str] = []
    for n in numbers:
        if not n.isdigit() or int(n) not in allowed:
            raise Invalid(_("“{n}” không phải số của một nhóm có thể sửa ({ok}).").format(
                n=n[:10], ok=", ".join(str(i) for i in allowed)))
        if allowed[int(n)].id not in chosen:
            chosen.append(allowed[int(n)].id)
    if not chosen:
        raise Invalid(_("Đồng chí gửi ít nhất một số nhóm cần sửa."))
    return chosen
