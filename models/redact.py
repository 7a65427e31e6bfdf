"""Secrets never reach a log line or an error message.

One filter, installed on every handler of the root logger at start-up
(:func:`install`), rewrites each record before it is written: the configured secrets
(Telegram and Zalo tokens, webhook secrets, the database password) and anything shaped
like a bot token or a password inside a URL become ``***``, in the message, its
arguments and the formatted traceback alike, at every level. So do one-time link codes
wherever a log line can carry them (``/start CODE``, ``/link CODE``, ``?start=CODE``
deep links, the relink buttons' data): at DEBUG a library prints whole updates and
replies, and a code read from a log links an account to a member. The same :func:`redact` cleans
configuration error messages, which are printed before logging exists.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from types import TracebackType
from typing import Any

MASK = "***"
# Telegram bot tokens ("123456789:AA…35 chars"), also inside /bot<token>/ URLs.
_TG_TOKEN = re.compile(r"(?<![0-9])\d{5,12}:[A-Za-z0-9_-]{20,}")
# user:password@ in any URL (database URLs, proxies).
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@")
# One-time link codes: after the commands that redeem them (also "/start@bot", and the
# code as a whole second word however it is spaced or URL-encoded), in deep links, in
# the relink buttons' callback data ("rl:CODE:…", "relink:CODE:…"), and after the
# "Mã …: " that hands a code to a secretary (the text of /code's reply).
_CODE = r"[A-Za-z0-9_-]{4,64}"
_LINK_CODES = (
    re.compile(r"(?P<head>/(?:start|link|lienket)(?:@[A-Za-z0-9_]{1,64})?"
               r"(?:\s|\\n|\\t|%20|\+)+)" + _CODE, re.IGNORECASE),
    re.compile(r"(?P<head>[?&](?:start|startgroup)=)" + _CODE),
    re.compile(r"(?P<head>\b(?:rl|relink):)" + _CODE),
    re.compile(r"(?P<head>\b(?:M\u00e3 li\u00ean k\u1ebft|M\u00e3 g\u1eafn nh\u00f3m|Link code|"
               r"Group code)[^:\n]{0,120}: )" + _CODE),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for s in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(s, MASK)
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK + "@", text)
    for pattern in _LINK_CODES:
        text = pattern.sub(lambda m: m.group("head") + MASK, text)
    return _TG_TOKEN.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message and traceback with :func:`redact`; never drops one."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def settings_secrets(settings: Any) -> list[str]:
    """The secrets a Settings object holds."""
    from sqlalchemy.engine import make_url

    found = [settings.telegram.token, settings.telegram.webhook_secret,
             settings.zalo.token, settings.zalo.webhook_secret]
    try:
        password = make_url(settings.database_url).password
    except Exception:
        password = None
    if password:
        found.append(str(password))
    return [s for s in found if s]


def install(secrets: Iterable[str]) -> RedactingFilter:
    """Put one RedactingFilter on every root handler, and route uncaught exceptions
    through logging so their tracebacks are redacted too."""
    flt = RedactingFilter(secrets)
    root = logging.getLogger()
    for handler in root.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(flt)

    def _hook(kind: type[BaseException], exc: BaseException,
              tb: TracebackType | None) -> None:
        logging.getLogger("chibot").critical("uncaught exception", exc_info=(kind, exc, tb))

    sys.excepthook = _hook
    return flt
