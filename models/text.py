"""Text helpers below every story: diacritic folding, command parsing, choice matching, ids.

Standard library only, so adapters, the importer, models and the stories all use them."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# What XML 1.0 cannot hold, so neither a .docx nor an .xlsx: the C0 controls but tab, line
# feed and carriage return; U+FFFE and U+FFFF; lone surrogates (half an emoji, not even
# encodable as UTF-8: kept visible as "?").
_NOT_XML = re.compile("[\x00-\x08\x0e-\x1f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Word's manual line break (Shift+Enter) pastes as \x0b, a page break as \x0c: lines.
_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n"})


def clean_text(text: str) -> str:
    """``text`` as every typed or imported text is kept: without the characters XML cannot
    hold (one pasted from Word blocked the month's minutes, resolution and workbooks),
    vertical tab and form feed as line breaks. Cheap when there is nothing to clean."""
    if text.isprintable():
        return text
    return _SURROGATE.sub("?", _NOT_XML.sub("", text.translate(_BREAKS)))


def fold(text: str) -> str:
    """Lower-case, strip Vietnamese diacritics and extra spaces: "Có  mặt" -> "co mat"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return _SPACES.sub(" ", stripped).strip().lower()


def parse_command(text: str) -> tuple[str, list[str], str] | None:
    """"/lenh@bot a b" -> ("lenh", ["a", "b"], "a b"); None when not a command."""
    text = text.strip()
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, rest = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    if not name or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
        return None
    rest = rest.strip()
    return name, rest.split() if rest else [], rest


def choice_key(label: str) -> str:
    """A label as typed replies are compared with it: folded, emoji and brackets trimmed."""
    return fold(label).strip(" .:!?()[]✅✏️❌🚫📝📋✓★-")


def match_choice(text: str, labels: list[str]) -> int | None:
    """Index of the choice ``text`` names: its number, its words (diacritics-insensitive),
    or an unambiguous beginning of its words; None otherwise."""
    t = fold(text).rstrip(".")
    if t.isdigit():
        n = as_id(t)
        return n - 1 if n is not None and n <= len(labels) else None
    keys = [choice_key(lbl) for lbl in labels]
    if t in keys:
        return keys.index(t)
    hits = [i for i, k in enumerate(keys) if t and k.startswith(t)]
    return hits[0] if len(hits) == 1 else None


def match_words(text: str, labels: list[str]) -> int | None:
    """Index of the one label holding ``text`` as whole words (diacritics-insensitive): a
    member's given name, "Phương" for "Mai Thị Phương"; None when none or several do. For
    steps that take only a choice (a free-text step reads the words as its answer)."""
    t = fold(text).rstrip(".").strip()
    hits = [i for i, lbl in enumerate(labels) if t and f" {t} " in f" {choice_key(lbl)} "]
    return hits[0] if len(hits) == 1 else None


# Every id column is an INTEGER: 32 bits on PostgreSQL, which refuses a larger number in a
# comparison ("integer out of range") where SQLite only finds no row.
MAX_ID = 2**31 - 1


def as_id(text: str | None) -> int | None:
    """A database id typed or sent by a user: ASCII digits within the id columns' range
    only, so a huge or exotic number can never reach int() limits or the database."""
    if not text or len(text) > 10 or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


# Bidirectional controls: invisible, yet they reorder what follows them in a chat (a
# right-to-left override flips the rest of the line): LRM/RLM, ALM, LRE…RLO, LRI…PDI.
_BIDI = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
# Cyrillic and Greek letters drawn like Latin ones: a name typed or pasted with one among
# Latin letters looks right and is another name (duplicates, a search that finds nothing).
_LOOKALIKES = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "һ": "h", "ԛ": "q", "ԝ": "w", "ӏ": "l",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "У": "Y", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S",
    "ο": "o", "ν": "v", "ρ": "p", "ι": "i", "κ": "k",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X"})


def _script(ch: str) -> str:
    return unicodedata.name(ch, "").split(" ", 1)[0] if ch.isalpha() else ""


def strip_bidi(text: str) -> str:
    """``text`` without bidirectional controls."""
    return _BIDI.sub("", text)


def latin_lookalikes(text: str) -> tuple[str, bool]:
    """A Latin-script name with its Cyrillic/Greek look-alike letters made Latin, and
    whether that was all: False when a Cyrillic or Greek letter with no Latin twin sits
    among Latin letters (a mixed name nobody can read back as typed). A name with no
    Latin letter at all is left as it is."""
    scripts = {_script(ch) for ch in text}
    if "LATIN" not in scripts or not scripts & {"CYRILLIC", "GREEK"}:
        return text, True
    mapped = text.translate(_LOOKALIKES)
    return mapped, not {_script(ch) for ch in mapped} & {"CYRILLIC", "GREEK"}
