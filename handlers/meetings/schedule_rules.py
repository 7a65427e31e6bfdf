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


def quiet_window(spec: str) -> tuple[time, time] | None:
    """"21:00-06:30" as (start, end) local times; None when empty."""
    if not spec.strip():
        return None
    start, _sep, end = spec.partition("-")
    return parse_hhmm(start.strip()), parse_hhmm(end.strip())


def outside_quiet(due: datetime, tz: str, spec: str, before: datetime | None = None) -> datetime:
    """``due`` moved out of the quiet hours: to the morning when they end, or, when that
    would reach ``before`` (the meeting, for a reminder), to the evening before they start
    (half an hour ahead). Unchanged outside the quiet hours."""
    window = quiet_window(spec)
    if window is None:
        return due
    start, end = window
    zone = ZoneInfo(tz)
    local = due.astimezone(zone)
    t = local.time()
    quiet = (start <= t or t < end) if start > end else (start <= t < end)
    if not quiet:
        return due
    day = local.date() if t < end else local.date() + timedelta(days=1)
    morning = datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
    if before is None or morning < before:
        return morning
    eve_day = local.date() if t >= start else local.date() - timedelta(days=1)
    return (datetime.combine(eve_day, start, tzinfo=zone) - timedelta(minutes=30)).astimezone(UTC)


def notice_at(meeting_start: datetime, tz: str, days: int, at: str) -> datetime:
    """The moment "``at`` ``days`` days before the meeting's date" (local), in UTC."""
    local = meeting_start.astimezone(ZoneInfo(tz))
    return local_to_utc(local.date() - timedelta(days=days), parse_hhmm(at), tz)
