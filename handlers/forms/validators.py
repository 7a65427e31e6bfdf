"""Parsers for typed answers; each raises forms.Invalid with a Vietnamese reason."""

from __future__ import annotations

import re
from datetime import date, datetime, time

from handlers.forms.engine import Invalid
from models.i18n import _, fmt_date
from models.text import fold


def parse_text(text: str, *, max_len: int = 300, min_len: int = 1) -> str:
    text = text.strip()
    if len(text) < min_len:
        raise Invalid(_("Nội dung không được để trống."))
    if len(text) > max_len:
        raise Invalid(_("Nội dung dài quá {n} ký tự.").format(n=max_len))
    return text


MAX_NUMBER_CHARS = 15  # every number a form asks for (points, counts, %) is far shorter
# Small numbers as words (folded), and the units people add ("9 người", "5 điểm").
NUMBER_WORDS = {"khong": 0, "mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5,
                "sau": 6, "bay": 7, "tam": 8, "chin": 9, "muoi": 10}
UNIT_WORDS = {"nguoi", "dong chi", "diem", "d", "phut", "lan", "buoi", "%"}


def plain_number(text: str) -> str:
    """A typed amount as digits: "9 người" -> "9", "năm" -> "5", "5 điểm" -> "5"."""
    t = fold(text).rstrip(".")
    for unit in sorted(UNIT_WORDS, key=len, reverse=True):
        if t.endswith(" " + unit) or (unit == "%" and t.endswith(unit)):
            t = t[: -len(unit)].strip()
            break
    return str(NUMBER_WORDS[t]) if t in NUMBER_WORDS else t


def parse_number(text: str, lo: float, hi: float, *, integer: bool = False) -> float:
    t = plain_number(text).replace(",", ".")
    if len(t) > MAX_NUMBER_CHARS:
        raise Invalid(_("Số quá dài: đồng chí nhập tối đa {n} chữ số.").format(
            n=MAX_NUMBER_CHARS))
    try:
        value = float(t)
    except ValueError:
        raise Invalid(_("“{text}” không phải là một số.").format(text=text.strip()[:30])) \
            from None
    if value != value or value in (float("inf"), float("-inf")):
        raise Invalid(_("“{text}” không phải là một số.").format(text=text.strip()[:30]))
    if integer and value != int(value):
        raise Invalid(_("Đồng chí vui lòng nhập số nguyên."))
    if not lo <= value <= hi:
        raise Invalid(_("Giá trị phải từ {lo} đến {hi}.").format(lo=_num(lo), hi=_num(hi)))
    return int(value) if integer else value


def _num(x: float) -> str:
    return str(int(x)) if x == int(x) else str(x)


_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?\s*$")


def parse_date(text: str, today: date) -> date:
    """dd/mm/yyyy or dd/mm (this year)."""
    m = _DATE.match(text)
    if not m:
        raise Invalid(_("Ngày phải có dạng ngày/tháng/năm, ví dụ 05/12/2026."))
    d, mth = int(m.group(1)), int(m.group(2))
    y = int(m.group(3)) if m.group(3) else today.year
    if y < 100:
        y += 2000
    try:
        return date(y, mth, d)
    except ValueError:
        raise Invalid(_("Ngày {text} không có trên lịch.").format(text=text.strip())) from None


def parse_deadline(text: str, today: date) -> date:
    """A deadline: dd/mm/yyyy, or dd/mm meaning the next such date from ``today`` (typed
    "20/01" in December is next January); a date already past is refused."""
    m = _DATE.match(text)
    if m and not m.group(3):
        d, mth = int(m.group(1)), int(m.group(2))
        for y in range(today.year, today.year + 5):  # 29/02 waits for a leap year
            try:
                due = date(y, mth, d)
            except ValueError:
                continue
            if due >= today:
                return due
        raise Invalid(_("Ngày {text} không có trên lịch.").format(text=text.strip()))
    due = parse_date(text, today)
    if due < today:
        raise Invalid(_("Hạn {due} đã qua; đồng chí nhập một ngày từ hôm nay ({today}) trở "
                        "đi.").format(due=fmt_date(due), today=fmt_date(today)))
    return due


_TIME = re.compile(r"^\s*(\d{1,2})\s*(?::|h|g|gio)\s*(\d{2})?\s*(?:phut|p)?\s*$",
                   re.IGNORECASE)


def parse_time(text: str) -> time:
    """"07:30", "7h30", "14h", "9 giờ 35", "9 giờ 35 phút"."""
    m = _TIME.match(fold(text))
    if not m:
        raise Invalid(_("Giờ phải có dạng giờ:phút, ví dụ 07:30 hoặc 14h00."))
    h, mi = int(m.group(1)), int(m.group(2) or 0)
    if h > 23 or mi > 59:
        raise Invalid(_("Giờ {text} không hợp lệ.").format(text=text.strip()))
    return time(h, mi)


def parse_datetime(text: str, today: date) -> datetime:
    """"05/12/2026 07:30" or "07:30 05/12/2026"."""
    parts = text.split()
    if len(parts) != 2:
        raise Invalid(_("Đồng chí vui lòng nhập cả ngày và giờ, ví dụ 05/12/2026 07:30."))
    a, b = parts
    if ":" in a or "h" in a.lower():
        a, b = b, a
    return datetime.combine(parse_date(a, today), parse_time(b))
