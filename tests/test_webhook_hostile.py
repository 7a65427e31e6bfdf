"""Webhooks under hostile input (issue 14, items 6 and 7): wrong types give 400, never 500;
a body or headers dripped at 1 byte/s are cut by the read timeouts."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import aiohttp
import pytest
from sqlmodel import Session, func, select

from bot.app import App
from bot.platforms import webhook
from bot.platforms.telegram import TelegramAdapter
from bot.platforms.zalo import ZaloAdapter
from models.outbox import ProcessedUpdate
from models.settings import TelegramSettings, ZaloSettings
from tests.test_telegram import FAST
from tests.tg_emulator import TelegramEmulator
from tests.zalo_emulator import ZaloEmulator

TG_SECRET = "s3cret-s3cret-s3cret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _processed(app: App) -> int:
    with Session(app.engine) as s:
        return s.exec(select(func.count()).select_from(ProcessedUpdate)).one()


async def _telegram(app: App) -> tuple[TelegramAdapter, TelegramEmulator, int]:
    emu = TelegramEmulator()
    base = await emu.start()
    port = _free_port()
    adapter = TelegramAdapter(TelegramSettings(
        token=emu.token, base_url=base, mode="webhook", port=port,
        webhook_url="https://bot.example.vn/telegram", webhook_secret=TG_SECRET),
        app.receive, capabilities=FAST)
    await adapter.start()
    app.add_messenger(adapter)
    return adapter, emu, port


def _tg_update(update_id: object, **msg: object) -> dict[str, object]:
    return {"update_id": update_id, "message": {
        "message_id": 1, "date": 1_700_000_000, "chat": {"id": 500, "type": "private"},
        "from": {"id": 500, "is_bot": False, "first_name": "A"}, "text": "/start", **msg}}


async def test_telegram_webhook_wrong_types_are_400(sample: App) -> None:
    adapter, emu, port = await _telegram(sample)
    url = f"http://127.0.0.1:{port}/telegram"
    headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
    bad = [_tg_update("77"), _tg_update(None), _tg_update(True), _tg_update(7.5),
           _tg_update(78, date="hôm qua"), _tg_update(79, chat="x"), _tg_update(80, text=5),
           _tg_update(81, **{"from": [1]}), {"update_id": 82, "message": "x"}, [1], "x"]
    try:
        async with aiohttp.ClientSession() as http:
            for body in bad:
                r = await http.post(url, data=json.dumps(body), headers=headers)
                assert r.status == 400, body
            assert _processed(sample) == 0
            r = await http.post(url, json=_tg_update(90), headers=headers)
            assert r.status == 200 and _processed(sample) == 1
    finally:
        await adapter.stop()
        await emu.stop()


async def test_zalo_webhook_impossible_dates_are_400(sample: App) -> None:
    emu = ZaloEmulator()
    await emu.start()
    port = _free_port()
    adapter = ZaloAdapter(ZaloSettings(token=emu.token, base_url=emu.base_url, mode="webhook",
                                       webhook_secret="zalo-secret-1", port=port,
                                       public_base_url=f"https://bot.example.vn:{port}"),
                          sample.receive, capabilities=FAST)
    await adapter.start()
    url = f"http://127.0.0.1:{port}/zalo"
    try:
        for date in (1e20, float("nan"), float("inf"), -5, "hôm nay", [1], True):
            upd = emu.update("z500", "Khách", "/start")
            upd["message"]["date"] = date
            raw = json.dumps(upd).encode()  # NaN/Infinity as Python's json writes them
            assert await emu.push_webhook(url, raw, secret="zalo-secret-1") == 400, date
        for field, value in (("from", "x"), ("chat", 5), ("from", {"id": {}, "is_bot": 1})):
            upd = emu.update("z500", "Khách", "/start")
            upd["message"][field] = value
            status = await emu.push_webhook(url, upd, secret="zalo-secret-1")
            assert status in (200, 400), (field, value)
        assert _processed(sample) == 0
        good = emu.update("z500", "Khách", "/start")
        assert await emu.push_webhook(url, good, secret="zalo-secret-1") == 200
    finally:
        await adapter.stop()
        await emu.stop()


async def _drip(port: int, head: bytes, body: bytes, every: float) -> tuple[float, bytes]:
    """Send ``head`` then ``body`` one byte every ``every`` s; return when the server
    answers or closes, with the time it took and what it said."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(head)

    async def dribble() -> None:
        for b in body:
            writer.write(bytes([b]))
            await writer.drain()
            await asyncio.sleep(every)

    task = asyncio.create_task(dribble())
    try:
        answer = await asyncio.wait_for(reader.read(200), timeout=30)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        writer.close()
    return time.monotonic() - started, answer


async def test_slowloris_body_and_headers_are_cut(sample: App,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhook, "READ_TIMEOUT", 1.0)
    monkeypatch.setattr(webhook, "IDLE_TIMEOUT", 1.5)
    adapter, emu, port = await _telegram(sample)
    body = json.dumps(_tg_update(91)).encode()
    head = (f"POST /telegram HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"X-Telegram-Bot-Api-Secret-Token: {TG_SECRET}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    try:
        # The body at 1 byte/s would take minutes: cut after about READ_TIMEOUT.
        took, answer = await _drip(port, head, body, every=1.0)
        assert took < 10 and (answer == b"" or b" 408 " in answer), answer
        # Headers at 1 byte/s: the connection is closed after about IDLE_TIMEOUT.
        took, answer = await _drip(port, b"", head, every=1.0)
        assert took < 10 and answer == b"", answer
        assert _processed(sample) == 0
    finally:
        await adapter.stop()
        await emu.stop()


async def test_zalo_events_we_do_not_use_get_200_and_a_nul_id_never_500(sample: App) -> None:
    """Zalo retries a non-2xx answer: a voice message, ``bot.added.to.group`` and an id
    we cannot keep (a NUL byte, refused by PostgreSQL) are answered 200; a private voice
    message is told politely that the bot reads only text."""
    emu = ZaloEmulator()
    await emu.start()
    port = _free_port()
    adapter = ZaloAdapter(ZaloSettings(token=emu.token, base_url=emu.base_url, mode="webhook",
                                       webhook_secret="zalo-secret-1", port=port,
                                       public_base_url=f"https://bot.example.vn:{port}"),
                          sample.receive, capabilities=FAST)
    await adapter.start()
    sample.add_messenger(adapter)
    url = f"http://127.0.0.1:{port}/zalo"
    try:
        for wrapped in (False, True):
            for upd in (emu.voice("z501", "Khách", group="g9"),
                        emu.added_to_group("g9", "z501", "Khách")):
                assert await emu.push_webhook(url, upd, secret="zalo-secret-1",
                                              wrapped=wrapped) == 200, upd
        for field in ("message_id", "chat", "from"):
            upd = emu.update("z502", "Khách", "/start")
            if field == "message_id":
                upd["message"]["message_id"] = "m\x00" + "1"
            else:
                upd["message"][field]["id"] = "z\x00502"
            assert await emu.push_webhook(url, upd, secret="zalo-secret-1") == 200, field
        upd = emu.update("z503", "Khách", "/start")
        upd["message"]["message_id"] = "x" * 65
        assert await emu.push_webhook(url, upd, secret="zalo-secret-1") == 200
        assert _processed(sample) == 0
        # A private voice message is handled: a polite answer, in text.
        assert await emu.push_webhook(url, emu.voice("z504", "Khách"),
                                      secret="zalo-secret-1") == 200
        assert _processed(sample) == 1
        await sample.sender.drain()
        assert "chưa đọc được loại tin nhắn này" in emu.to("z504")[-1].text
        # A body without an event name is still the sender's mistake.
        assert await emu.push_webhook(url, {"message": {}}, secret="zalo-secret-1") == 400
    finally:
        await adapter.stop()
        await emu.stop()
