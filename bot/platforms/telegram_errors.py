"""What a Telegram error means for the core: each maps to a neutral ``Failure``.

Shapes from the Bot API reference (core.telegram.org/bots/api, "Making requests": {"ok":
false, "error_code", "description", "parameters"?}; "ResponseParameters":
``migrate_to_chat_id``, ``retry_after``), as python-telegram-bot raises them:
- 429 with ``parameters.retry_after`` (RetryAfter) -> TRANSIENT with retry_after; network
  errors, timeouts and 5xx (NetworkError, TimedOut) -> TRANSIENT;
- 400 "Bad Request: group chat was upgraded to a supergroup chat" with
  ``parameters.migrate_to_chat_id`` (ChatMigrated) -> MIGRATED(new chat id);
- 403 "Forbidden: bot was blocked by the user", and the other 403s (user deactivated, bot
  kicked from the group, bot can't initiate conversation) (Forbidden) -> BLOCKED;
- 400 "Bad Request: query is too old and response timeout expired or query ID is
  invalid" on answerCallbackQuery -> EXPIRED (dropped, never posted as a message);
- other 400s (BadRequest) -> PERMANENT; a refused token -> retried every 5 minutes.
- 409 on getUpdates, "Conflict: terminated by other getUpdates request; make sure that
  only one bot instance is running" or "Conflict: can't use getUpdates method while
  webhook is active": ``conflict_advice`` says what it means.
"""

from __future__ import annotations

import warnings
from datetime import timedelta

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from models.messages import Failure, Outgoing, SendError


def send_error(exc: TelegramError, out: Outgoing) -> SendError:
    """The neutral SendError for a failed call made to deliver ``out``."""
    if isinstance(exc, RetryAfter):
        with warnings.catch_warnings():  # PTB 22 warns about the int/timedelta switch
            warnings.simplefilter("ignore", PTBDeprecationWarning)
            ra = exc.retry_after
        seconds = ra.total_seconds() if isinstance(ra, timedelta) else float(ra)
        return SendError(f"429 retry after {seconds}", transient=True, retry_after=seconds)
    if isinstance(exc, ChatMigrated):
        return SendError(f"chat migrated to {exc.new_chat_id}", failure=Failure.MIGRATED,
                         new_chat_id=str(exc.new_chat_id))
    if isinstance(exc, Forbidden):
        return SendError(f"Forbidden: {exc}", failure=Failure.BLOCKED)
    if isinstance(exc, BadRequest):
        if out.answer_only and too_old(exc):
            return SendError(f"BadRequest: {exc}", failure=Failure.EXPIRED)
        return SendError(f"BadRequest: {exc}", transient=False)
    if isinstance(exc, InvalidToken):
        return SendError("invalid token", transient=True, retry_after=300)
    return SendError(f"{type(exc).__name__}: {exc}", transient=True)  # network, timeouts


def too_old(exc: BadRequest) -> bool:
    text = str(exc).lower()
    return "query is too old" in text or "query id is invalid" in text


def conflict_advice(exc: TelegramError) -> str:
    """What a 409 on getUpdates means and what to do about it."""
    if "webhook" in str(exc).lower():
        return ("a webhook is set for this token (another chibot in webhook mode?); use "
                "one mode: run every process with telegram.mode = \"webhook\", or stop the "
                "webhook instance")
    return ("another process is polling with the same token: a second chibot instance (an "
            "overlapping deploy, a forgotten test run). Only one process may poll; for "
            "several processes use webhook mode")
