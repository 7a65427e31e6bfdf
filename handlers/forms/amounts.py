"""Money typed by a secretary, as whole đồng: "50.000", "50,000", "50000", "50k",
"50 nghìn", "1,5 triệu", "50 000". Anything else is refused with the reason, never guessed:
digits split by spaces other than in groups of three ("30 3 40", "5 0 0 0 0") are most
likely a forgotten ";" between two members, so they are refused with the reading the bot
would have made instead of being run together."""

from __future__ import annotations

import re

from handlers.forms.engine import Invalid
from models.i18n import _, fmt_number
from models.text import fold

MIN_AMOUNT = 1_000  # below this the secretary almost surely meant thousands ("50" for 50k)
_UNITS = {"k": 1_000, "nghin": 1_000, "ngan": 1_000, "tr": 1_000_000, "trieu": 1_000_000}
_CURRENCY = r"(?:d|dong|vnd)"
_GROUPED = re.compile(r"(\d{1,3}(?:([.,])\d{3})(?:\2\d{3})*)\s*" + _CURRENCY + r"?")
_PLAIN = re.compile(r"(\d+)\s*" + _CURRENCY + r"?")
# Digits split by spaces; a thousands grouping is 1-3 digits then groups of exactly three.
_SPACED = re.compile(r"\d[\d.,]*(?:\s+[\d.,]*\d[\d.,]*)+")
_SPACE_GROUPED = re.compile(r"\d{1,3}(?: \d{3})+")
_SCALED = re.compile(r"(\d+)(?:[.,](\d{1,3}))?\s*(k|nghin|ngan|tr|trieu)\s*" + _CURRENCY + r"?")


def ascii_int(text: str, max_digits: int) -> int | None:
    """A small number typed by a person (a list number, a year): ASCII digits only, at most
    ``max_digits`` of them, so a huge or exotic number never reaches int()."""
    if not text or len(text) > max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def fmt_dong(amount: int) -> str:
    return _("{n} đ").format(n=fmt_number(amount, 0))


def _ambiguous(raw: str, joined: str, max_amount: int) -> str:
    """Why digits split by spaces are refused, with the amount they would have made."""
    try:
        reading = _("bot sẽ đọc là {amount}").format(
            amount=fmt_dong(parse_amount(joined, max_amount=max_amount)))
    except Invalid:
        reading = _("bot không đọc được thành một số tiền")
    return _("“{text}”: không rõ số tiền ({reading}); có thể thiếu dấu “;” giữa hai đồng "
             "chí. Xin ghi lại, ví dụ 50.000 hoặc 50k.").format(text=raw[:30], reading=reading)


def parse_amount(text: str, *, max_amount: int) -> int:
    """Whole đồng, or Invalid with the reason."""
    raw = text.strip()
    t = fold(raw).replace(" ", "") if raw else ""
    if not t:
        raise Invalid(_("Chưa ghi số tiền."))
    if not t.isascii() or sum(ch.isdigit() for ch in t) > 15:
        raise Invalid(_("“{text}” không phải là số tiền. Ví dụ: 50.000, 50k, 50 nghìn.")
                      .format(text=raw[:30]))
    if t.startswith("-"):
        raise Invalid(_("“{text}”: số tiền không được âm.").format(text=raw[:30]))
    spaced = _SPACED.search(fold(raw))
    if spaced and not _SPACE_GROUPED.fullmatch(spaced.group(0)):
        raise Invalid(_ambiguous(raw, t, max_amount))
    value: int | None = None
    if m := _SCALED.fullmatch(t):
        whole, frac, unit = m.group(1), m.group(2) or "", m.group(3)
        scale = _UNITS[unit]
        value = int(whole) * scale + (int(frac) * scale // 10 ** len(frac) if frac else 0)
        if frac and (int(frac) * scale) % 10 ** len(frac):
            raise Invalid(_("“{text}” không ra số đồng nguyên.").format(text=raw[:30]))
    elif m := _GROUPED.fullmatch(t):
        value = int(re.sub(r"[.,]", "", m.group(1)))
    elif m := _PLAIN.fullmatch(t):
        value = int(m.group(1))
    elif re.fullmatch(r"\d+[.,]\d{1,2}" + _CURRENCY + "?", t):
        raise Invalid(_("“{text}”: đảng phí ghi bằng số đồng nguyên; nếu là nghìn đồng xin "
                        "ghi rõ, ví dụ 50.000 hoặc 50k.").format(text=raw[:30]))
    else:
        raise Invalid(_("“{text}” không phải là số tiền. Ví dụ: 50.000, 50k, 50 nghìn.")
                      .format(text=raw[:30]))
    if value == 0:
        raise Invalid(_("Số tiền bằng 0: nếu đồng chí chưa đóng, xin ghi “chưa”."))
    if value < MIN_AMOUNT:
        raise Invalid(_("“{text}” đồng là quá nhỏ; có phải {k}? Xin ghi rõ, ví dụ {k}.")
                      .format(text=raw[:30], k=fmt_dong(value * 1000)))
    if value > max_amount:
        raise Invalid(_("“{text}” vượt mức tối đa {max} một tháng; xin kiểm tra lại.")
                      .format(text=raw[:30], max=fmt_dong(max_amount)))
    return value
