"""How the scoring form shows what the bot computed: each group's computed criteria with
their points and evidence note, the running total of what was shown, and why a band was
not reached.

Any computed criterion is shown the same way: ``auto`` maps a criterion id to
``[points, note]`` (points ``None``: the data is missing and the secretary is asked,
with the note as a hint). A criterion whose maximum this month is 0 (a thematic criterion
in a month without a thematic part) does not apply and is not shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from handlers.core.labels import label
from handlers.scoring.store import ctitle, gtitle
from models.i18n import _, fmt_number
from models.rubric import EPS, Band, Criterion, Group, Rubric

Auto = Mapping[str, Sequence[Any]]  # criterion id -> [points | None, note]


def applies(rubric: Rubric, c: Criterion, thematic: bool) -> bool:
    return rubric.effective_max(c, thematic) > EPS


def computed(auto: Auto, c: Criterion) -> bool:
    return c.id in auto and auto[c.id][0] is not None


def group_header(g: Group, i: int) -> str:
    return _("Nhóm {i}. {title} (tối đa {max} điểm)").format(
        i=i, title=gtitle(g), max=fmt_number(g.max))


def computed_lines(rubric: Rubric, g: Group, auto: Auto, thematic: bool,
                   points: Mapping[str, float] | None = None) -> list[str]:
    """"🤖 title: points/max — note" for each computed criterion of ``g`` that applies;
    ``points`` overrides the computed points (e.g. a corrected task share)."""
    lines = []
    for c in g.criteria:
        if not computed(auto, c) or not applies(rubric, c, thematic):
            continue
        got = points.get(c.id, auto[c.id][0]) if points else auto[c.id][0]
        lines.append(f"  🤖 {ctitle(c)}: {fmt_number(got)}/"
                     f"{fmt_number(rubric.effective_max(c, thematic))} — {auto[c.id][1]}")
    return lines


def shown_total(groups: Iterable[Group], points: Mapping[str, float]) -> float:
    return sum(points.get(c.id, 0.0) for g in groups for c in g.criteria)


def short_of_full(rubric: Rubric, band: Band, points: Mapping[str, float],
                  thematic: bool) -> list[Criterion]:
    """The criteria ``band`` requires at full marks that are not at full marks."""
    out = []
    for cid in band.requires_full:
        c = rubric.criterion(cid)
        if points.get(cid, 0.0) + EPS < rubric.effective_max(c, thematic):
            out.append(c)
    return out


def band_explanation(rubric: Rubric, total: float, band_id: str,
                     points: Mapping[str, float], thematic: bool) -> str | None:
    """Why the score is not in the band its total reaches, naming only the criteria
    that fall short; None when it is."""
    plain = next((b for b in rubric.bands if total + EPS >= b.min), None)
    if plain is None or plain.id == band_id:
        return None
    short = short_of_full(rubric, plain, points, thematic)
    if not short:
        return None
    return _("(Không xếp loại {band} vì các tiêu chí sau chưa đạt tối đa: {crits}.)").format(
        band=label(plain.id), crits=", ".join(ctitle(c) for c in short))
