"""The web view's lists for one organisation and year: Điều 8 and HD 42 flags, cells
without a thematic meeting this quarter, the thematic plan against meetings held, party
fees per quarter, and the yearly classification by stage against the bloc's targets and
the 20 % cap. Each list is an existing computation (models.dieu8, models.streaks,
models.plan, models.yearreport, handlers.year.sheets), read-only here."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from sqlalchemy.pool import SingletonThreadPool, StaticPool
from sqlmodel import Session

from handlers.meetings.schedule_rules import quarter_months
from handlers.views.cache import cached
from handlers.year import classify
from handlers.year.sheets import classification
from models import dieu8, reports, streaks
from models.classification import excellent_allowed, rank
from models.db import no_parallel_plans
from models.org import Organisation
from models.plan import plan_rows
from models.records import cells_without_upper_attendee
from models.reports import Period
from models.settings import Settings
from models.yearreport import fee_totals


@dataclass
class Lists:
    year: int
    upto: str
    dieu8: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    no_thematic: list[Any]
    no_upper: list[tuple[int, str]]  # cells no upper-level committee member attended
    plan: list[dict[str, Any]]
    fees: list[dict[str, Any]]
    cells: list[dict[str, Any]]  # classification per cell, with its stage
    stages: dict[str, dict[str, int]]  # stage -> level -> cells
    members: dict[str, int]  # level -> members
    targets: list[tuple[str, float, float | None]]
    cap: float
    cap_ok: bool
    hidden_flags: int = 0  # members over FLAG_ROWS, not listed
    hidden_cells: int = 0  # cells over LIST_ROWS in each cell table, not listed


LIST_ROWS = 100  # cells per table on the page (a bloc has 500); the rest by organisation
FLAG_ROWS = 200  # members flagged under Điều 8, the flagged first


def lists(s: Session, root: Organisation, period: Period, settings: Settings,
          now: datetime, full: bool = False) -> Lists:
    """The lists, through the view's 60-second cache (the year's classification of a
    whole bloc reads every member's year); ``full``: every row (the downloads), not the
    page's first LIST_ROWS and FLAG_ROWS."""
    return cached(_lists, s, root, period, now.date(), full, extra=(settings, now))


def _beside(s: Session) -> bool:
    """Whether queries may run beside ``s``'s, each in a worker thread with a session of
    its own (sqlite3 and psycopg release the GIL while a statement runs): not where a
    second session would not see ``s``'s data, an in-memory SQLite (a connection per
    thread, or one shared) or objects of ``s`` not yet flushed (the page writes nothing
    before its lists)."""
    return not (isinstance(s.get_bind().pool, SingletonThreadPool | StaticPool)
                or s.new or s.dirty or s.deleted)


def _lists(s: Session, root: Organisation, period: Period, _day: date, full: bool,
           settings: Settings, now: datetime) -> Lists:
    upto = period.months[-1]
    yr = int(upto[:4])
    rules = classify.rules_for(settings)
    # The members counted per level in SQL, not row by row.
    levels = partial(classify.member_level_counts, s, root, yr, rules, settings)
    if not _beside(s):
        c = classification(s, root, yr, settings, member_levels=levels)
        others = _others(s, root, upto, yr, now)
    else:  # the classification here, the other lists beside it: two halves of about
        # equal work for two cores (a third thread for the members' levels only made
        # them take turns, ~8 % slower in interleaved runs on both databases)
        with Session(s.get_bind()) as s2, ThreadPoolExecutor(1) as pool:
            for one in (s, s2):
                no_parallel_plans(one)
            rest = pool.submit(_others, s2, root, upto, yr, now)
            c = classification(s, root, yr, settings, member_levels=levels)
            others = rest.result()
    watch, runs, cells, no_upper, plan, fees = others
    stages: dict[str, dict[str, int]] = {}
    for x in c["cells"]:
        stages.setdefault(x["stage"], {}).setdefault(x["level"], 0)
        stages[x["stage"]][x["level"]] += 1
    members = c["member_levels"]
    excellent = sum(1 for x in c["cells"] if x["level"] == "htxsnv")
    good = sum(1 for x in c["cells"] if x["level"] and rank(x["level"]) <= rank("httnv"))
    cap = c["rules"].excellent_cap
    rows, flags = (None, None) if full else (LIST_ROWS, FLAG_ROWS)
    return Lists(
        yr, upto, watch[:flags], runs[:flags], cells[:rows], no_upper[:rows], plan[:rows],
        fees[:rows], c["cells"][:rows], stages, members, c["targets"], cap,
        excellent_allowed(excellent, good, cap),
        hidden_flags=max(len(watch) - (flags or len(watch)), 0),
        hidden_cells=max(len(plan) - (rows or len(plan)), 0))


def _others(s: Session, root: Organisation, upto: str, yr: int, now: datetime
            ) -> tuple[list[Any], ...]:
    """The lists but the classification: Điều 8, HD 42 runs, cells without a thematic
    meeting or an upper-level attendee this quarter, the thematic plan, fees."""
    watch = sorted(dieu8.members_to_watch(s, root, upto),
                   key=lambda r: ("flag", "warn", "attention").index(r["level"].value))
    months = quarter_months(upto)
    return (watch, streaks.long_runs(s, root, yr, now),
            reports.cells_without_thematic(s, root, tuple(months)),
            cells_without_upper_attendee(s, root.path, months), plan_rows(s, root, yr),
            fee_totals(s, root, yr))
