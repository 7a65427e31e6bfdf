"""Telegram Mini App launch data (``initData``), validated by the server itself (PTB has
no validator): HMAC-SHA256 with the key ``HMAC_SHA256("WebAppData", bot_token)`` over the
sorted ``key=value`` lines of the string exactly as received, constant-time compare,
``auth_date`` at most ``MAX_AGE`` seconds old.

The values are URL-decoded once and used as they came: ``user`` is never re-serialised
from parsed JSON (a ``photo_url`` with ``\\/`` would no longer match)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qsl

MAX_AGE = 3600  # seconds
SKEW = 60  # an auth_date this far in the future is still accepted (clocks differ)


def secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def check_string(pairs: list[tuple[str, str]]) -> str:
    return "\n".join(f"{k}={v}" for k, v in sorted(pairs))


def validate(raw: str, bot_token: str, now: float, max_age: int = MAX_AGE
             ) -> dict[str, Any] | None:
    """The launch data's fields (``user`` parsed) if the signature holds and it is fresh;
    None otherwise (never raises on hostile input)."""
    if not raw or not bot_token or len(raw) > 8192:
        return None
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    keys = [k for k, _v in pairs]
    if len(keys) != len(set(keys)):
        return None  # a repeated field could be read two ways
    fields = dict(pairs)
    got = fields.pop("hash", "")
    data = [(k, v) for k, v in pairs if k != "hash"]
    want = hmac.new(secret_key(bot_token), check_string(data).encode(),
                    hashlib.sha256).hexdigest()
    if not got or not hmac.compare_digest(want, got.lower()):
        return None
    try:
        auth = int(fields.get("auth_date", ""))
    except ValueError:
        return None
    if not (now - max_age <= auth <= now + SKEW):
        return None
    try:
        user = json.loads(fields.get("user", ""))
    except ValueError:
        return None
    if not isinstance(user, dict) or not isinstance(user.get("id"), int):
        return None  # e.g. opened from a reply-keyboard button: no user, no entry
    out: dict[str, Any] = dict(fields)
    out["user"] = user
    return out


def sign(fields: dict[str, str], bot_token: str) -> str:
    """Launch data as Telegram would send it (tests and the demo's forged/valid cases)."""
    from urllib.parse import urlencode

    h = hmac.new(secret_key(bot_token), check_string(list(fields.items())).encode(),
                 hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": h})
