"""When a cell's regular meeting falls, from its rule, in the cell's timezone.

Rules: "day:N" (day N of the month, moved to the next working day if it is a weekend),
"first_workday" (first Monday–Friday), "first_monday" (right after the flag ceremony
held on the first Monday). An explicit date is not a rule: the secretary reschedules
that month's meeting instead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

RULES = ("day", "first_workday", "first_monday")


class RuleError(ValueError):
    pass


def check_rule(rule: str) -> str:
    kind, _, arg = rule.partition(":")
    if kind == "day":
        if not (arg.isascii() and arg.isdigit() and len(arg) <= 2) or not 1 <= int(arg) <= 28:
            raise RuleError("day:N needs N from 1 to 28")
    elif kind not in ("first_workday", "first_monday") or arg:
        raise RuleError(f"unknown meeting rule {rule!r}")
    return rule


def _next_workday(d: date) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def meeting_date(rule: str, year: int, month: int) -> date:
    kind, _, arg = check_rule(rule).partition(":")
    first = date(year, month, 1)
    if kind == "day":
        return _next_workday(date(year, month, int(arg)))
    if kind == "first_workday":
        return _next_workday(first)
    return first + timedelta(days=(7 - first.weekday()) % 7)  # first Monday


def parse_hhmm(text: str) -> time:
    hh, _, mm = text.partition(":")
    return time(int(hh), int(mm or 0))


def local_to_utc(d: date, t: time, tz: str) -> datetime:
    return datetime.combine(d, t, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def period_of(dt: datetime, tz: str) -> str:
    local = dt.astimezone(ZoneInfo(tz))
    return f"{local.year:04d}-{local.month:02d}"


def add_months(year: int, month: int, n: int) -> tuple[int, int]:
    m = month - 1 + n
    return year + m // 12, m % 12 + 1


def quarter_months(period: str) -> list[str]:
    y, m = int(period[:4]), int(period[5:7])
    q0 = (m - 1) // 3 * 3 + 1
    return [f"{y:04d}-{q0 + i:02d}" for i in range(3)]
