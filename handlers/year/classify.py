"""From the year's record to proposed levels, and the checks every level passes: the
conditions that exclude a level (data: locales/classification/*.toml) and the 20% cap on
"hoàn thành xuất sắc" within a unit."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from sqlmodel import Session

from models import dieu8, reports
from models.classification import LEVELS, Rules, at_most, excellent_allowed, load_rules, rank
from models.i18n import _
from models.org import Organisation
from models.review import year_record_groups
from models.rubric import load_rubric
from models.settings import Settings

TASKS_GOOD = 0.8  # share of tasks done for "hoàn thành tốt" when proposing from the record


def rules_for(settings: Settings) -> Rules:
    return _rules(str(settings.locales_dir), settings.year.classification_rules)


@cache
def _rules(locales_dir: str, rules_id: str) -> Rules:
    """Keyed by plain strings: building and hashing the Path for load_rules' own cache
    cost ~30 µs a call, 2,500 calls (70 ms) in a bloc's year classification."""
    return load_rules(Path(locales_dir) / "classification", rules_id)


def member_facts(r: dict[str, Any]) -> set[str]:
    facts = set()
    if r["disciplined"]:
        facts.add("disciplined")
    if dieu8.level_of(r["unexcused"], r["unpaid"]) is dieu8.Level.FLAG:
        facts.add("dieu8")
    if r["unexcused"] or r["unpaid"]:
        facts.add("unexcused_or_unpaid")
    return facts


def min_held(settings: Settings) -> int:
    """Regular meetings (of 12) a cell must have held for its year to be rated: the
    classification rules' number, unless the deployment sets year.min_held_meetings."""
    return settings.year.min_held_meetings or rules_for(settings).min_held_meetings


def not_rated(kind: str, item: Any, settings: Settings) -> str | None:
    """Why a year is not rated, or None when it is: THE one answer the chat (/danhgia,
    /duyet), the workbook, the demo summary and the web view give. ``kind`` "cell" takes a
    row of year_cells (held regular meetings), "member" a row of year_record (meetings
    due). Not-rated items get no level and are left out of the target percentages."""
    if kind == "cell":
        need = min_held(settings)
        if item["held"] < need:
            return _("chưa đủ buổi sinh hoạt thường kỳ: đã họp {held}/12, cần ít nhất "
                     "{need}").format(held=item["held"], need=need)
        return None
    if not item["due"]:
        return _("không có buổi sinh hoạt phải dự trong năm")
    return None


def not_rated_text(reason: str) -> str:
    """"Không xếp loại (…)": how a not-rated year reads wherever a level would stand."""
    return _("Không xếp loại ({reason})").format(reason=reason)


def year_quality(row: Any, settings: Settings) -> str:
    """A cell's meeting-quality year as every listing words it: the band, or "Không xếp
    loại (…)" with the reason."""
    reason = not_rated("cell", row, settings)
    return _quality(reason, None if reason else _band(row, settings))


def _quality(reason: str | None, band: str | None) -> str:
    from handlers.core.labels import label

    if reason is not None:
        return not_rated_text(reason)
    return label(band) if band else "—"


def attendance_rate(r: dict[str, Any]) -> float | None:
    """Meetings attended of those not excused: an absence with a reason never counts
    against a member."""
    counted = r["due"] - r.get("excused", 0)
    return r["attended"] / counted if counted > 0 else None


def member_proposal(r: dict[str, Any], rules: Rules, settings: Settings) -> str:
    """Prefilled from the record; "xuất sắc" is never proposed by the bot. Excused
    absences and tasks not yet due (year_record leaves them out) never lower it."""
    rate = attendance_rate(r)
    rate_ok = rate is None or rate >= settings.year.attendance_target
    tasks_ok = not r["tasks"] or r["tasks_done"] / r["tasks"] >= TASKS_GOOD
    return _proposal(rate_ok, tasks_ok, member_facts(r), rules)


def _proposal(rate_ok: bool, tasks_ok: bool, facts: set[str], rules: Rules) -> str:
    base = "httnv" if rate_ok and tasks_ok else "htnv"
    return at_most(base, rules.ceiling("member", facts))


def member_level(r: dict[str, Any], rules: Rules,
                 settings: Settings) -> tuple[str | None, str]:
    """(level, stage): confirmed, else the cell's proposal, else the bot's prefill; (None,
    "not_rated") for a member with no meeting due (see not_rated)."""
    if not_rated("member", r, settings):
        return None, "not_rated"
    if r.get("confirmed_level"):
        return r["confirmed_level"], "confirmed"
    if r.get("proposed_level"):
        return r["proposed_level"], "proposed"
    return member_proposal(r, rules, settings), "prefilled"


def member_level_counts(s: Session, root: Organisation, year: int, rules: Rules,
                        settings: Settings, as_of: date | None = None
                        ) -> dict[str | None, int]:
    """How many members of the subtree have each level (None: not rated), as
    :func:`member_level` decides it for each of year_record's rows, decided once per
    group of alike records (models.review.year_record_groups; 8,000 calls of
    member_level and the rows that fed them were ~150 ms of a bloc's year lists)."""
    counts: dict[str | None, int] = {}
    for g in year_record_groups(s, root, year, settings.year.attendance_target,
                                TASKS_GOOD, as_of):
        level: str | None
        if not_rated("member", g, settings):
            level = None
        else:
            level = (g["confirmed_level"] or g["proposed_level"]
                     or _proposal(bool(g["rate_ok"]), bool(g["tasks_ok"]), member_facts(g),
                                  rules))
        counts[level] = counts.get(level, 0) + g["n"]
    return counts


def cell_year_band(row: Any, settings: Settings) -> str | None:
    """The cell's meeting-quality year (band id), None when too few meetings were held."""
    return None if not_rated("cell", row, settings) else _band(row, settings)


def _band(row: Any, settings: Settings) -> str | None:
    rubric = load_rubric(settings.rubrics_dir, row["rubric_id"] or settings.rubric)
    return rubric.rate_year({b: row[f"r_{b}"] for b in reports.BANDS}, row["score"])


def cell_facts(row: Any, settings: Settings) -> set[str]:
    facts = set()
    if row["due"] and row["attended"] / row["due"] < settings.year.attendance_target:
        facts.add("attendance_below_target")
    return facts


def cell_proposal(row: Any, rules: Rules, settings: Settings) -> str | None:
    """The bot's prefill for a cell's level; None when its year is not rated."""
    return _org_proposal(cell_year_band(row, settings), row, rules, settings)


def _org_proposal(band: str | None, row: Any, rules: Rules, settings: Settings) -> str | None:
    if band is None:
        return None
    base = rules.org_proposal.get(band, "htnv")  # type: ignore[call-overload]
    return at_most(base, rules.ceiling("org", cell_facts(row, settings)))


def cell_year(row: Any, rules: Rules, settings: Settings
              ) -> tuple[str | None, str | None, str, str | None]:
    """(why not rated, band, quality as worded, the bot's proposal) of a cell's year of
    :func:`year_cells`, each decided once: :func:`cell_year_band`,
    :func:`year_quality` and :func:`cell_proposal` each decide the rating again (three
    times per cell, ~15 ms of a bloc's 500 cells)."""
    reason = not_rated("cell", row, settings)
    band = None if reason else _band(row, settings)
    return reason, band, _quality(reason, band), _org_proposal(band, row, rules, settings)


def year_cells(s: Session, root: Organisation, year: int) -> list[Any]:
    return reports.cell_rows(s, root, reports.year(year))


def refusal(rules: Rules, applies_to: str, facts: set[str], level: str) -> str | None:
    """Why ``level`` is not allowed, naming the condition, or None."""
    blocking = rules.blocking(applies_to, facts, level)
    if not blocking:
        return None
    c = blocking[0]
    return _("Không thể xếp loại “{level}”: {cond} — mức cao nhất là “{max}” (theo "
             "{source}).").format(level=level_name(level), cond=c.title,
                                  max=level_name(c.max_level), source=rules.source(c))


def cap_refusal(rules: Rules, levels: list[str | None], unit: str) -> str | None:
    excellent = sum(1 for lv in levels if lv == "htxsnv")
    good = sum(1 for lv in levels if lv and rank(lv) <= rank("httnv"))
    if excellent_allowed(excellent, good, rules.excellent_cap):
        return None
    return _("Vượt tỷ lệ {cap} “hoàn thành xuất sắc” trong {unit}: {x}/{g} được xếp từ hoàn "
             "thành tốt trở lên.").format(cap=f"{rules.excellent_cap:.0%}", unit=unit,
                                         x=excellent, g=good)


def member_refusal(rules: Rules, r: dict[str, Any], records: list[dict[str, Any]],
                   level: str, unit: str, settings: Settings) -> str | None:
    """Why ``level`` may not be given to the member of record ``r``: a condition of the
    rules, else the cap on the best level among ``records`` (the unit's members)."""
    why = refusal(rules, "member", member_facts(r), level)
    if why is None:
        others = [member_level(o, rules, settings)[0] for o in records
                  if o["member_id"] != r["member_id"]]
        why = cap_refusal(rules, [*others, level], unit)
    return why


def level_name(level: str) -> str:
    from handlers.core.labels import label

    return label(level) if level in LEVELS else level


def fold_key(text: str) -> str:
    from models.text import fold

    return fold(text).replace(" ", "").replace("_", "")


def parse_level(text: str) -> str | None:
    """"htxsnv", "xuất sắc", "1" … "4" -> a level id."""
    t = fold_key(text)
    aliases = {"1": "htxsnv", "xuatsac": "htxsnv", "htxs": "htxsnv", "2": "httnv",
               "tot": "httnv", "htt": "httnv", "3": "htnv", "hoanthanh": "htnv", "ht": "htnv",
               "4": "khtnv", "khonghoanthanh": "khtnv", "kht": "khtnv"}
    return t if t in LEVELS else aliases.get(t)
