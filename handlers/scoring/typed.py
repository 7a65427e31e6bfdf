"""Reading typed scores forgivingly: "3 2 2", "3/3 2/2 2/2" (points out of the maximum),
"5 điểm", "năm"; a wrong count says what was understood."""

from __future__ import annotations

import re

from handlers.forms.engine import Invalid
from handlers.forms.validators import NUMBER_WORDS, parse_number
from models.i18n import _
from models.text import fold

SCORE_UNITS = {"diem", "d"}  # "5 điểm", "5 đ"

_OUT_OF = re.compile(r"^(\d+(?:[.,]\d+)?)/(\d+(?:[.,]\d+)?)$")


def score_tokens(text: str) -> list[str]:
    """The scores in ``text``: split on spaces and ';' (a comma is a decimal comma), unit
    words dropped ("5 điểm"), number words kept as tokens ("năm")."""
    out = []
    for tok in re.split(r"[\s;]+", text.strip()):
        if tok and fold(tok).rstrip(".") not in SCORE_UNITS:
            out.append(tok)
    return out


def out_of(token: str, maximum: float) -> str:
    """"5/5" -> "5" when the denominator is the criterion's maximum (unambiguous);
    another denominator is refused rather than guessed."""
    m = _OUT_OF.match(token.strip())
    if m is None:
        t = fold(token).rstrip(".")
        return str(NUMBER_WORDS[t]) if t in NUMBER_WORDS else token
    den = float(m.group(2).replace(",", "."))
    if abs(den - maximum) > 1e-9:
        raise Invalid(_("“{tok}”: mục này tính trên {mx} điểm, không phải {den}.").format(
            tok=token, mx=_num(maximum), den=_num(den)))
    return m.group(1)


def read_points(parts: list[str], items: list[tuple[str, float]]) -> list[float]:
    """Each token as the points of its item (title, maximum), in order: "5", "5/5",
    "năm"; a bad one is refused naming its item ("Mục 2) …: …")."""
    out = []
    for i, (part, (title, maximum)) in enumerate(zip(parts, items, strict=True), 1):
        try:
            out.append(float(parse_number(out_of(part, maximum), 0, maximum)))
        except Invalid as exc:
            raise Invalid(_("Mục {i}) {title}: {reason}").format(
                i=i, title=title, reason=exc)) from None
    return out


def read_each(parts: list[str], items: list[tuple[str, float]],
              positions: list[int]) -> tuple[dict[int, float], list[str]]:
    """Each token as the points of the item at the same place of ``positions``; the
    values read, and a line naming each item refused ("Mục 3) …: …")."""
    values: dict[int, float] = {}
    errors: list[str] = []
    for k, part in zip(positions, parts, strict=True):
        title, maximum = items[k]
        try:
            values[k] = float(parse_number(out_of(part, maximum), 0, maximum))
        except Invalid as exc:
            errors.append(_("Mục {i}) {title}: {reason}").format(i=k + 1, title=title,
                                                                 reason=exc))
    return values, errors


def count_error(parts: list[str], need: int) -> str:
    """"Đồng chí gửi 2 số: 5 và 5. Nhóm này cần 3 số …" """
    if not parts:
        got = _("Đồng chí chưa gửi số nào.")
    else:
        shown = parts[:8]
        listed = shown[0] if len(shown) == 1 else \
            _("{a} và {b}").format(a=", ".join(shown[:-1]), b=shown[-1])
        got = _("Đồng chí gửi {k} số: {list}.").format(k=len(parts), list=listed)
    return got + " " + _("Nhóm này cần {n} số, mỗi mục một số theo thứ tự 1), 2)…, cách nhau "
                         "bằng dấu cách (ví dụ “3 2 2”), hoặc “đủ” nếu đạt tối đa.").format(
        n=need)


def _num(x: float) -> str:
    return str(int(x)) if x == int(x) else str(x).replace(".", ",")
