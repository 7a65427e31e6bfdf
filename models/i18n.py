"""Babel/gettext texts and locale-aware formatting.

Message ids are the Vietnamese texts themselves: Vietnamese is the default language, so a
missing or stale catalogue still shows Vietnamese. The English catalogue translates them.
The current locale lives in a context variable set per incoming update.
"""

from __future__ import annotations

import gettext as _gettext
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as _bd_format_date
from babel.dates import format_datetime as _bd_format_datetime
from babel.numbers import format_decimal, format_percent

log = logging.getLogger(__name__)

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
DOMAIN = "messages"
_locales_dir = Path(__file__).resolve().parent.parent / "locales"
_current: ContextVar[str] = ContextVar("chibot_locale", default=DEFAULT_LOCALE)


def configure(locales_dir: Path, default: str = DEFAULT_LOCALE) -> None:
    global _locales_dir, DEFAULT_LOCALE
    _locales_dir = Path(locales_dir)
    DEFAULT_LOCALE = default
    _translations.cache_clear()


@cache
def _translations(locale: str) -> _gettext.NullTranslations:
    lc = _locales_dir / locale / "LC_MESSAGES"
    mo, po = lc / f"{DOMAIN}.mo", lc / f"{DOMAIN}.po"
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fh:
            return _gettext.GNUTranslations(fh)
    if po.is_file():
        # No compiled catalogue (e.g. a source checkout): compile in memory.
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        log.debug("compiled %s in memory", po)
        return _gettext.GNUTranslations(buf)
    log.warning("no catalogue for locale %s in %s", locale, _locales_dir)
    return _gettext.NullTranslations()


def normalise_locale(code: str | None) -> str:
    code = (code or "").lower().replace("_", "-").split("-")[0]
    return code if code in LOCALES else DEFAULT_LOCALE


def current_locale() -> str:
    return _current.get()


@contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    token = _current.set(normalise_locale(locale))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return _translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    return message


_ = gettext


def _babel_locale() -> Locale:
    return Locale.parse("vi_VN" if _current.get() == "vi" else "en_GB")


def to_local(dt: datetime, tz: str) -> datetime:
    return dt.astimezone(ZoneInfo(tz))


def fmt_date(d: date | datetime, tz: str | None = None) -> str:
    """dd/mm/yyyy in both locales, as Vietnamese documents write dates."""
    if isinstance(d, datetime) and tz:
        d = to_local(d, tz)
    return _bd_format_date(d, "dd/MM/yyyy", locale=_babel_locale())


def fmt_time(dt: datetime, tz: str) -> str:
    return _bd_format_datetime(to_local(dt, tz), "HH:mm", locale=_babel_locale())


def fmt_datetime(dt: datetime, tz: str) -> str:
    """24-hour time then the date, e.g. "07:30 03/12/2026"."""
    return _bd_format_datetime(to_local(dt, tz), "HH:mm dd/MM/yyyy", locale=_babel_locale())


def fmt_weekday(dt: datetime, tz: str) -> str:
    return _bd_format_datetime(to_local(dt, tz), "EEEE", locale=_babel_locale())


def fmt_number(x: float, digits: int = 1) -> str:
    fmt = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(x, format=fmt, locale=_babel_locale())


def fmt_percent(ratio: float) -> str:
    return format_percent(ratio, format="#,##0.#%", locale=_babel_locale())
