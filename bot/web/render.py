"""Jinja2 with autoescape, templates and static files from the package (no CDN)."""

from __future__ import annotations

from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from handlers.core.labels import cell_label, label
from models.i18n import _, current_locale, fmt_datetime, fmt_number, fmt_percent, ngettext

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".svg": "image/svg+xml"}


@lru_cache(maxsize=20_000)
def _formatted(kind: str, value: float, digits: int, locale: str) -> str:
    """Babel parses its number pattern on every call (~0.5 ms); a table of a hundred
    rates repeats the same few thousand values, so each is formatted once per locale."""
    return fmt_percent(value) if kind == "%" else fmt_number(value, digits)


def _pct(value: float | None) -> str:
    return _formatted("%", value, 0, current_locale()) if value is not None else "—"


def _num(value: float | None, digits: int = 1) -> str:
    return _formatted("n", value, digits, current_locale()) if value is not None else "—"


def _when(value: datetime | None, tz: str = "Asia/Ho_Chi_Minh") -> str:
    return fmt_datetime(value, tz) if value is not None else "—"


@cache
def env() -> Environment:
    e = Environment(loader=PackageLoader("bot.web", "templates"),
                    autoescape=select_autoescape(["html", "svg"], default=True),
                    trim_blocks=True, lstrip_blocks=True)
    e.globals.update(_=_, ngettext=ngettext, label=label, cell_label=cell_label,
                     pct=_pct, num=_num, when=_when, locale=current_locale)
    return e


def render(template: str, **ctx: Any) -> str:
    return env().get_template(template).render(**ctx)


@cache
def static_file(name: str) -> tuple[bytes, str] | None:
    """A shipped asset by its bare name (no path: nothing outside the folder is served)."""
    path = STATIC_DIR / name
    kind = STATIC_TYPES.get(path.suffix)
    if "/" in name or "\\" in name or name.startswith(".") or kind is None \
            or not path.is_file():
        return None
    return path.read_bytes(), kind
