"""Secrets never appear in logs or error messages (issue 14, item 4): the real `chibot run`
process at DEBUG level with tokens both platforms' emulators reject, and a bad config."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any

from sqlalchemy.engine import make_url

from bot.app import App
from models.redact import RedactingFilter, redact
from tests.conftest import PG_URL
from tests.tg_emulator import TelegramEmulator
from tests.zalo_emulator import ZaloEmulator

TG_TOKEN = "7345678901:AAHsecretSECRETsecretSECRETsecret12"
ZALO_TOKEN = "4242424242:zalo-SECRET-token-do-not-log"
TG_HOOK = "tg-webhook-SECRET-0123456789"
ZALO_HOOK = "zalo-webhook-SECRET-987"
DB_PASSWORD = "Pg-SECRET-pw-42"


def test_redact_masks_configured_secrets_token_shapes_and_url_passwords() -> None:
    line = ("POST https://api.telegram.org/bot123456789:AAEabcdefghijklmnopqrstuvwxyz0123/getMe "
            "postgresql+psycopg://chibot:hunter2@db:5432/chibot secret=abcd1234")
    out = redact(line, ["abcd1234"])
    assert "AAEabcdefghij" not in out and "hunter2" not in out and "abcd1234" not in out
    assert "postgresql+psycopg://chibot:***@db:5432/chibot" in out


def test_filter_redacts_args_and_tracebacks() -> None:
    record = None
    try:
        raise RuntimeError(f"The token `{TG_TOKEN}` was rejected by the server.")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed with %s: %s",
                                   (ZALO_TOKEN, {"secret": TG_HOOK}), sys.exc_info())
    RedactingFilter([TG_TOKEN, ZALO_TOKEN, TG_HOOK]).filter(record)
    text = logging.Formatter().format(record)
    assert "Traceback" in text
    for secret in (TG_TOKEN, ZALO_TOKEN, TG_HOOK):
        assert secret not in text


async def test_a_run_with_rejected_tokens_at_debug_logs_no_secret(sample: App) -> None:
    tg, zalo = TelegramEmulator(enforce_limits=False), ZaloEmulator()
    tg_base, zalo_base = await tg.start(), await zalo.start()
    db_url = sample.settings.database_url
    if PG_URL:  # local trust authentication ignores the password; the log must too
        db_url = make_url(db_url).set(password=DB_PASSWORD).render_as_string(
            hide_password=False)
    env = {**os.environ, "CHIBOT_DATABASE__URL": db_url, "CHIBOT_LOG_LEVEL": "DEBUG",
           "CHIBOT_TELEGRAM__TOKEN": TG_TOKEN, "CHIBOT_TELEGRAM__BASE_URL": tg_base,
           "CHIBOT_TELEGRAM__WEBHOOK_SECRET": TG_HOOK,
           "CHIBOT_ZALO__TOKEN": ZALO_TOKEN, "CHIBOT_ZALO__BASE_URL": zalo_base,
           "CHIBOT_ZALO__WEBHOOK_SECRET": ZALO_HOOK}
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _err = await asyncio.wait_for(proc.communicate(), timeout=120)
    finally:
        await tg.stop()
        await zalo.stop()
    log = out.decode()
    assert "DEBUG" in log and "could not start" in log  # both tokens were rejected
    assert "Traceback" in log and "***" in log  # the secrets were there, masked
    for secret in (TG_TOKEN, TG_TOKEN.split(":")[1], ZALO_TOKEN, TG_HOOK, ZALO_HOOK,
                   DB_PASSWORD):
        assert secret not in log, secret


async def test_a_config_error_does_not_print_the_database_password() -> None:
    env = {**os.environ, "CHIBOT_DATABASE__URL": "mysql://chibot:Hunter2-SECRET@db/chibot",
           "CHIBOT_TELEGRAM__PORT": "99999"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "migrate", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _err = await asyncio.wait_for(proc.communicate(), timeout=60)
    text = out.decode()
    assert proc.returncode == 2 and "database.url" in text and "telegram.port" in text
    assert "Hunter2-SECRET" not in text and "mysql://chibot:***@db/chibot" in text


async def test_link_codes_in_ptb_debug_lines_are_masked(caplog: Any) -> None:
    """PTB's own DEBUG lines for getUpdates and sendMessage carry ``/start CODE``, the
    secretary's "Mã liên kết …: CODE" and deep links; through the filter none remains."""
    import telegram

    tg = TelegramEmulator(enforce_limits=False)
    base = await tg.start()
    codes = ["K7PQ3MZA", "H2Y9TRWE", "D4NB8CXF", "P5SG6UVL"]
    user = tg.user(501, "Hà")
    tg.user_message(user, f"/start {codes[0]}")
    tg.user_message(user, f"/start@chibot_bot   {codes[1].lower()}")
    flt = RedactingFilter([tg.token])
    caplog.handler.addFilter(flt)
    try:
        with caplog.at_level(logging.DEBUG, logger="telegram"):
            bot = telegram.Bot(tg.token, base_url=base)
            async with bot:
                await bot.get_updates()
                await bot.send_message(501, f"Mã liên kết của đồng chí Phạm Thị Hà: {codes[2]}"
                                            f"\nhttps://t.me/chibot_bot?start={codes[3]}")
    finally:
        caplog.handler.removeFilter(flt)
        await tg.stop()
    text = caplog.text
    assert "getUpdates" in text and "sendMessage" in text and "***" in text
    for code in codes:
        assert code not in text and code.lower() not in text, code


def test_at_debug_the_library_loggers_stay_at_info_unless_asked() -> None:
    from bot.__main__ import _setup_logging
    from models.settings import Settings

    root, before, hook = logging.getLogger(), list(logging.getLogger().handlers), sys.excepthook
    try:
        for flag, level in ((False, logging.INFO), (True, logging.NOTSET)):
            logging.getLogger("telegram").setLevel(logging.NOTSET)
            _setup_logging(Settings(log_level="DEBUG", log_library_debug=flag))
            assert logging.getLogger("telegram").level == level
    finally:
        logging.getLogger("telegram").setLevel(logging.NOTSET)
        logging.getLogger("httpcore").setLevel(logging.NOTSET)
        root.handlers[:] = before
        sys.excepthook = hook
