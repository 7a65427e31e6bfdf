"""Vietnamese alphabetical order for names (a documented collation key).

PyICU, the usual answer, ships no wheels for this platform (it builds against the system
ICU); icu4py's wheel has no collator; pyuca implements only the untailored DUCET, where
ă, â, ê, ô, ơ, ư are a, e, o, u with accents rather than letters of their own. So this
key implements the Vietnamese order directly, on three levels like the Unicode Collation
Algorithm with the CLDR "vi" tailoring:

1. letters, in the Vietnamese alphabet: a ă â b c d đ e ê (f) g h i (j) k l m n o ô ơ p
   q r s t u ư v (w) x y (z); digits before letters; spaces and punctuation first;
2. tones: none, huyền (à), sắc (á), hỏi (ả), ngã (ã), nặng (ạ);
3. case: lower before upper.

"Đặng" therefore sorts after "Dương" and before "Hà" (a binary sort puts every "Đ" after
"Z"), and "Ân" after "Anh".
"""

from __future__ import annotations

import unicodedata
from typing import Any

ALPHABET = ["a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k", "l",
            "m", "n", "o", "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "w", "x", "y",
            "z"]
_LETTER = {ch: i for i, ch in enumerate(ALPHABET)}
_TONES = {"\u0300": 1, "\u0301": 2, "\u0309": 3, "\u0303": 4, "\u0323": 5}  # à á ả ã ạ
_QUALITY = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn: part of the letter
_DIGIT_BASE = 1
_LETTER_BASE = 20
_OTHER_BASE = 100


def _split(ch: str) -> tuple[str, int]:
    """A character as (letter without tone, tone number)."""
    decomposed = unicodedata.normalize("NFD", ch)
    tone = 0
    kept = []
    for c in decomposed:
        if c in _TONES:
            tone = _TONES[c]
        elif unicodedata.category(c) != "Mn" or c in _QUALITY:
            kept.append(c)
    return unicodedata.normalize("NFC", "".join(kept)), tone


def vi_key(text: str) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Sort key: letters first, then tones, then case (see the module's docstring)."""
    primary: list[int] = []
    tones: list[int] = []
    cases: list[int] = []
    for ch in unicodedata.normalize("NFC", text.strip()):
        base, tone = _split(ch)
        low = base.lower()
        if low in _LETTER:
            primary.append(_LETTER_BASE + _LETTER[low])
        elif low.isdigit():
            primary.append(_DIGIT_BASE + int(low) if low.isascii() else _OTHER_BASE)
        elif low.isspace() or not low.isalnum():
            primary.append(0)
        else:
            primary.append(_OTHER_BASE + ord(low[0]))
        tones.append(tone)
        cases.append(1 if base != low else 0)
    return tuple(primary), tuple(tones), tuple(cases)


def sorted_names(names: list[str]) -> list[str]:
    return sorted(names, key=vi_key)


def sort_within(rows: list[Any], name: str = "name", group: str | None = None) -> list[Any]:
    """Rows (mappings) in Vietnamese order of ``rows[i][name]``; with ``group``, the
    groups keep the order they come in (e.g. the organisation tree) and the names are
    ordered inside each group."""
    first: dict[Any, int] = {}
    for r in rows:
        first.setdefault(r[group] if group else None, len(first))
    return sorted(rows, key=lambda r: (first[r[group] if group else None], vi_key(r[name])))
