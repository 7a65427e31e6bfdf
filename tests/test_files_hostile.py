"""Stored files under pressure (issue 14, item 7): downloads bounded whatever the size
claims, files of a cancelled agenda removed, one stored copy for a cell without a group."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from bot.platforms import telegram as tg_module
from models.files import StoredFile
from models.meeting import AgendaItem
from models.messages import Attachment
from models.org import ChatBinding
from models.outbox import OutboxMessage, ProcessedUpdate
from tests.helpers import QLNS, SEC, Driver, FakeClock, link_cell, tick
from tests.test_cycle import DEC_MEETING, _materialise, _meeting
from tests.test_telegram import TG, _bound_group, tg, until  # noqa: F401  (fixture)

PDF = b"%PDF-1.4 du thao nghi quyet " * 200


def _files(driver: Driver) -> int:
    with Session(driver.app.engine) as s:
        return s.exec(select(func.count()).select_from(StoredFile)).one()


async def _agenda_with_file(driver: Driver, mid: int, *, confirm: bool) -> None:
    for text in (f"/chuongtrinh #{mid}", "Không", "Hội trường tầng 3"):
        await driver.say(SEC, text)
    inc = driver.incoming(SEC, "Dự thảo nghị quyết | Đ/c Thành")
    driver.app.handle(replace(inc, attachment=Attachment("du-thao.pdf", PDF)))
    await driver.app.sender.drain()
    await driver.say(SEC, "Xong")
    await driver.say(SEC, "1" if confirm else "/huy")


async def test_cancelling_the_agenda_form_drops_its_files(driver: Driver) -> None:
    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    mid = _meeting(driver.app, cell).id or 0
    await _agenda_with_file(driver, mid, confirm=False)
    assert _files(driver) == 0
    await _agenda_with_file(driver, mid, confirm=True)
    assert _files(driver) == 1
    # A new agenda without the document drops it; a replaced unfinished form too. (The
    # edit starts from the saved items, so the document's item is removed by number.)
    for text in (f"/chuongtrinh #{mid}", "Không", "Hội trường", "xóa 1", "Chỉ một mục", "Xong",
                 "1"):
        await driver.say(SEC, text)
    assert _files(driver) == 0


async def test_cancelling_the_meeting_drops_its_files(driver: Driver, clock: FakeClock) -> None:
    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    mid = _meeting(driver.app, cell).id or 0
    await _agenda_with_file(driver, mid, confirm=True)
    assert _files(driver) == 1
    for text in (f"/huyhop #{mid}", "Chuyển sang tuần sau do lịch công tác", "1"):
        out = await driver.say(SEC, text)
    assert any("Đã hủy buổi sinh hoạt" in t for t in out)
    assert _files(driver) == 0
    with Session(driver.app.engine) as s:
        item = s.exec(select(AgendaItem).where(AgendaItem.meeting_id == mid)).one()
        assert item.document_file_id is None and item.document_name == "du-thao.pdf"


async def test_a_cell_without_a_group_stores_one_copy_of_a_file(
        driver: Driver, clock: FakeClock) -> None:
    cell = link_cell(driver, QLNS)
    with Session(driver.app.engine) as s:
        for b in s.exec(select(ChatBinding).where(ChatBinding.org_id == cell.id)):
            b.active = False
            s.add(b)
        s.commit()
    _materialise(driver.app)
    mid = _meeting(driver.app, cell).id or 0
    await _agenda_with_file(driver, mid, confirm=True)
    driver.messenger.clear()
    clock.set(DEC_MEETING - timedelta(hours=72))
    await tick(driver.app)
    files = [o for o in driver.messenger.sent if o.attachment is not None]
    assert len(files) >= 6 and all(o.attachment.data == PDF for o in files)
    assert len({o.chat_id for o in files}) == len(files)  # one per member, privately
    with Session(driver.app.engine) as s:
        rows = [r for r in s.exec(select(OutboxMessage)) if "attachment" in r.payload]
        assert len(rows) == len(files)
        assert all(r.attachment is None and r.payload["attachment"]["file_id"] for r in rows)
    assert _files(driver) == 1


async def test_download_is_bounded_when_the_size_claim_is_false(
        tg: TG, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setattr(tg_module, "MAX_DOWNLOAD", 1024 * 1024)
    thanh = await _bound_group(tg)
    _materialise(tg.app)
    mid = _meeting(tg.app, tg.cell()).id
    for text in (f"/chuongtrinh #{mid}", "Không", "Hội trường tầng 3"):
        await tg.push(tg.emu.user_message(thanh, text))
    big = b"%PDF" + b"x" * (1024 * 1024 + 10)
    await tg.push(tg.emu.user_document(thanh, "that-ra-rat-lon.pdf", big, size=10,
                                       caption="Tài liệu | Đ/c Thành"))
    assert "quá lớn: bot nhận tệp tối đa 1 MB" in tg.emu.to(101)[-1].text
    with Session(tg.app.engine) as s:
        assert s.exec(select(func.count()).select_from(StoredFile)).one() == 0
    small = b"%PDF" + b"y" * 500
    await tg.push(tg.emu.user_document(thanh, "nho.pdf", small, size=10,
                                       caption="Tài liệu | Đ/c Thành"))
    assert "Nội dung thứ 2" in tg.emu.to(101)[-1].text
    with Session(tg.app.engine) as s:
        assert s.exec(select(StoredFile.data)).one() == small


async def test_a_failing_download_holds_back_only_its_own_update(tg: TG) -> None:  # noqa: F811
    """A command and a file in one getUpdates answer, and Telegram cannot give the file
    yet: the command is answered at once; the file waits, unacknowledged, and is handled
    once it can be fetched (the batch before a file is committed first)."""
    thanh = await _bound_group(tg)
    before = len(tg.emu.to(101))
    first = tg.emu.user_message(thanh, "/lichhop")  # both queued before the next poll
    doc = tg.emu.user_document(thanh, "stray.pdf", b"%PDF")
    file_id = next(reversed(tg.emu.files))
    data = tg.emu.files.pop(file_id)  # getFile answers 400 "invalid file_id" meanwhile

    def answered(text: str) -> int:
        return sum(text in m.text for m in tg.emu.to(101)[before:])

    def committed(update_id: int) -> bool:
        with Session(tg.app.engine) as s:
            return s.exec(select(ProcessedUpdate).where(
                ProcessedUpdate.update_id == str(update_id))).first() is not None

    await until(lambda: committed(first))
    await tg.app.sender.drain()
    assert answered("Lịch sinh hoạt") == 1
    assert not committed(doc) and tg.adapter.last_update_id < doc
    tg.emu.files[file_id] = data
    await until(lambda: tg.adapter.last_update_id >= doc, timeout=20)  # after the 5 s retry
    await tg.settle()
    assert answered("/chuongtrinh") == 1 and answered("Lịch sinh hoạt") == 1
