"""Spreadsheet formula injection guard (OWASP "CSV Injection").

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read by Excel/LibreOffice as a formula (``=HYPERLINK(...)``, ``-2+3+cmd|...``). Every
exported text cell goes through :func:`safe_cell`, which prefixes such text with a single
quote, as OWASP recommends; numbers, dates and text that is merely a number ("-3,5") are
left as they are. https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from models.text import clean_text

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)*%?")


def safe_cell(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would run as a formula, or text
    holding a character the workbook's XML cannot (a row stored before the door cleaned
    them: openpyxl raises IllegalCharacterError and the whole workbook was lost)."""
    if not isinstance(value, str):
        return value
    value = clean_text(value)
    if value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]
