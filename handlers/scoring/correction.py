"""A correction of a submitted score starts from the saved answers: the secretary picks
the groups that change and is asked only those (plus the reason)."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, select

from handlers.forms.errors import Invalid
from handlers.scoring.store import ctitle, current_score, gtitle
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


def auto_changes(s: Session, meeting_id: int, rubric: Rubric, auto: Data) -> list[list[Any]]:
    """Computed criteria whose points differ from the current score's ([criterion, saved,
    now, note]): a correction shows them, it never changes another group silently."""
    score = current_score(s, meeting_id)
    if score is None:
        return []
    saved = {i.criterion_id: i.points for i in s.exec(
        select(ScoreItem).where(ScoreItem.score_id == score.id))}
    known = {c.id for c in rubric.criteria()}
    return [[cid, saved[cid], now, note] for cid, (now, note) in auto.items()
            if now is not None and cid in saved and cid in known
            and abs(saved[cid] - now) > 1e-9]


def changes_lines(rubric: Rubric, data: Data) -> list[str]:
    """The computed changes, as the secretary reads them before confirming."""
    changes = data.get("auto_changed") or []
    if not changes:
        return []
    lines = [_("⚠️ Điểm bot tự tính đã thay đổi từ lần ghi trước (sẽ được lưu cùng lần "
               "sửa này):")]
    for cid, old, new, note in changes:
        c = rubric.criterion(cid)
        group = next((g for g in rubric.groups if c in g.criteria), None)
        lines.append(_("• {group} — {criterion}: {old} → {new} — {note}").format(
            group=gtitle(group) if group else "", criterion=ctitle(c), old=fmt_number(old),
            new=fmt_number(new), note=note))
    return lines


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
    return "\n".join([*lines, *changes_lines(rubric, data)])


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
