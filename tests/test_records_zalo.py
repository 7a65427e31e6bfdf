"""Zalo takes no files: a document goes as its text, split at 2,000 characters, plus a
link to the file that chibot serves itself (webhook mode, public_base_url)."""

from __future__ import annotations

import re

import aiohttp

from bot.app import App
from bot.platforms.base import Attachment, Outgoing
from bot.platforms.zalo import MAX_TEXT
from tests.test_zalo import _adapter, _free_port
from tests.zalo_emulator import ZaloEmulator

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def test_document_text_split_with_a_served_link(sample: App) -> None:
    emu = ZaloEmulator()
    await emu.start()
    port = _free_port()
    adapter = await _adapter(sample, emu, mode="webhook", webhook_secret="zalo-secret-1",
                             public_base_url=f"https://bot.example.vn:{port}", port=port)
    try:
        body = "\n".join(f"- Đồng chí {i}: ý kiến số {i} " + "x" * 80 for i in range(60))
        await adapter.send(Outgoing(platform="zalo", chat_id="z900", text=body,
                                    attachment=Attachment("bien-ban-2026-12.docx", b"PK-docx")))
        parts = [m.text for m in emu.to("z900")]
        assert len(parts) >= 3 and all(len(p) <= MAX_TEXT for p in parts)
        joined = "\n".join(parts)
        assert all(f"- Đồng chí {i}: ý kiến số {i} " in joined for i in range(60))
        url = re.search(r"\(7 ngày\): (\S+)\]", parts[-1])
        assert url and url.group(1).startswith(f"https://bot.example.vn:{port}/zalo/files/")
        local = url.group(1).replace("https://bot.example.vn", "http://127.0.0.1")
        async with aiohttp.ClientSession() as http, http.get(local) as resp:
            assert resp.status == 200 and resp.content_type == DOCX
            assert await resp.read() == b"PK-docx"
        async with aiohttp.ClientSession() as http, \
                http.get(f"http://127.0.0.1:{port}/zalo/files/guessed") as resp:
            assert resp.status == 404
    finally:
        await adapter.stop()
        await emu.stop()
