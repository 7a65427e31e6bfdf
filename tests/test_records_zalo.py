"""Zalo takes no files: a document goes as its text, split at 2,000 characters, plus a
link to the file that chibot serves itself (webhook mode, public_base_url)."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp

from bot.app import App
from bot.platforms.zalo import MAX_TEXT
from models.messages import Attachment, Outgoing
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


async def test_a_served_link_outlives_a_restart_and_expires(sample: App, tmp_path: Path) -> None:
    """Under `chibot run` the files behind the links live in data_dir/zalo-files: a
    member who opens the link after a restart still gets the document; an expired or
    forged token gets 404 and never reads outside that directory."""
    emu = ZaloEmulator()
    await emu.start()
    port = _free_port()
    settings = {"mode": "webhook", "webhook_secret": "zalo-secret-1",
                "public_base_url": f"https://bot.example.vn:{port}", "port": port}
    files = tmp_path / "zalo-files"
    adapter = await _adapter(sample, emu, files_dir=files, **settings)
    try:
        name = 'Nghị quyết "tháng 12"\r\nX: y.docx'  # a member's upload names the file
        await adapter.send(Outgoing(platform="zalo", chat_id="z900", text="Nghị quyết",
                                    attachment=Attachment(name, b"PK-nq")))
        url = re.search(r"\(7 ngày\): (\S+)\]", emu.to("z900")[-1].text)
        assert url
        old = await adapter._publish(b"old", -1, "text/plain")  # already expired
    finally:
        await adapter.stop()
    (tmp_path / "secret.txt").write_text("not served")
    adapter = await _adapter(sample, emu, files_dir=files, **settings)  # the restart
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(url.group(1).replace("https://bot.example.vn",
                                                     "http://127.0.0.1")) as resp:
                assert resp.status == 200 and resp.content_type == DOCX
                assert await resp.read() == b"PK-nq"
                assert resp.headers["Content-Disposition"] == (
                    'attachment; filename="Ngh_ quy_t _th_ng 12___X: y.docx"; '
                    "filename*=UTF-8''Ngh%E1%BB%8B%20quy%E1%BA%BFt%20%22th%C3%A1ng%2012%22"
                    "%0D%0AX%3A%20y.docx")
                assert "X" not in resp.headers  # no header of its own
            for bad in (old.replace("https://bot.example.vn", "http://127.0.0.1"),
                        f"http://127.0.0.1:{port}/zalo/files/..%2Fsecret.txt",
                        f"http://127.0.0.1:{port}/zalo/files/" + "A" * 32):
                async with http.get(bad) as resp:
                    assert resp.status == 404, bad
        old_token = old.rsplit("/", 1)[-1]  # the restart pruned what had expired
        assert not (files / old_token).exists() and not (files / f"{old_token}.json").exists()
        await adapter._publish(b"new", 60, "text/plain")
        assert len(list(files.iterdir())) == 4  # the document and the new file, with metadata
    finally:
        await adapter.stop()
        await emu.stop()


_KILLED_PUBLISH = """
import os, signal, sys
from pathlib import Path
from bot.platforms import served_files
files = served_files.ServedFiles(Path(sys.argv[1]))
real = files._write
def write(name, data):
    if name.endswith(sys.argv[2]):
        if sys.argv[3] == "partial":  # killed in the middle of writing
            (files.directory / f"{name}.{os.getpid()}.tmp").write_bytes(data[:3])
        os.kill(os.getpid(), signal.SIGKILL)
    real(name, data)
files._write = write
files.publish(b"PK-the-document", 3600, "application/octet-stream", "a.docx")
"""


def test_a_publish_killed_between_its_writes_leaves_nothing_for_ever(tmp_path: Path) -> None:
    """kill -9 between the file and its metadata (or in the middle of either) leaves at
    most a file no link reaches; the next start or publish deletes it once it is older
    than a write in progress could be, and never a younger one (another process may be
    publishing right now)."""
    import os
    import subprocess
    import sys
    import time

    from bot.platforms.served_files import ORPHAN_GRACE, ServedFiles

    files = tmp_path / "zalo-files"
    files.mkdir()
    for suffix, how in ((".json", "whole"), (".json", "partial"), ("", "partial")):
        proc = subprocess.run([sys.executable, "-c", _KILLED_PUBLISH, str(files), suffix, how],
                              cwd=Path(__file__).resolve().parent.parent, timeout=60)
        assert proc.returncode == -9
    left = sorted(p.name for p in files.iterdir())
    assert left and not any(n.endswith(".json") for n in left), left
    served = ServedFiles(files)
    assert all(served.find(n) is None for n in left)
    assert served.prune() == 0  # young: perhaps a publish in progress elsewhere
    old = time.time() - ORPHAN_GRACE - 1
    for name in left:
        os.utime(files / name, (old, old))
    token = served.publish(b"new", 60, "text/plain")  # a publish prunes the orphans
    assert sorted(p.name for p in files.iterdir()) == sorted([token, f"{token}.json"])
    assert served.find(token) is not None
