"""The records around the minutes: chi ủy meeting, Sổ tay, points computed from records
(with overrides), the minutes book, and the text version where files cannot go (Zalo)."""

from __future__ import annotations

import io
from datetime import timedelta

from docx import Document
from sqlmodel import Session, select

from handlers.core.delivery import to_chat
from handlers.scoring.autoscore import compute
from models.audit import AuditEntry
from models.meeting import Meeting, MeetingStatus, Task, TaskStatus
from models.messages import Outgoing
from models.org import Organisation
from models.outbox import OutboxMessage
from models.outbox_queue import to_outgoing
from models.records import CommitteeMeeting, MeetingRecord
from models.rubric import load_rubric
from tests.helpers import Driver, FakeClock, tick
from tests.test_cycle import DEC_MEETING, _materialise
from tests.test_minutes import MEMBER, OPINIONS, SEC, _cell, capture, score, setup_month


def _prepare_november(driver: Driver, cell_id: int) -> None:
    """Last month's meeting was held and set two tasks, both done."""
    with Session(driver.app.engine) as s:
        nov = Meeting(cell_id=cell_id, period="2026-11", status=MeetingStatus.HELD.value,
                      scheduled_at=DEC_MEETING - timedelta(days=30))
        s.add(nov)
        s.flush()
        for text in ("Báo cáo quyết toán quý III", "Cập nhật hồ sơ đảng viên"):
            s.add(Task(meeting_id=nov.id or 0, description=text, status=TaskStatus.DONE.value))
        s.commit()


async def _minutes(driver: Driver, mid: int) -> None:
    await capture(driver, mid)
    for answer in ("Xong", "Hoàn thành tốt nhiệm vụ tháng 11.", "Thống nhất nhiệm vụ tháng 12.",
                   "-", "5 0 0", "1"):
        await driver.say(SEC, answer)
    await driver.press(SEC, f"bb:ok:{mid}:1")


def _computed_points(driver: Driver, mid: int) -> tuple[float, dict[str, tuple]]:
    rubric = load_rubric(driver.app.settings.rubrics_dir, "hd42-2025")
    with Session(driver.app.engine) as s:
        m = s.get(Meeting, mid)
        auto = compute(s, rubric, m)
    by_id = {c.id: c for c in rubric.criteria()}
    computed = {cid: (a.points, a.note) for cid, a in auto.items() if a.points is not None}
    return sum(by_id[cid].max for cid in computed if by_id[cid].only_if is None), computed


async def test_records_compute_at_least_55_points(driver: Driver, clock: FakeClock) -> None:
    cell = _cell(driver)
    _materialise(driver.app)
    _prepare_november(driver, cell.id or 0)
    with Session(driver.app.engine) as s:
        mid = s.exec(select(Meeting).where(Meeting.cell_id == cell.id,
                                           Meeting.scheduled_at == DEC_MEETING)).one().id or 0
    # Three days ahead: the chi ủy meets, the documents go up to Sổ tay.
    clock.set(DEC_MEETING - timedelta(hours=74))
    out = await driver.say(SEC, f"/hopchiuy #{mid}")
    assert "Chi ủy họp lúc nào" in out[-1]
    out = await driver.say(SEC, "29/11/2026 09:00")
    assert "Các đồng chí chi ủy dự họp" in out[-1]
    out = await driver.say(SEC, "1 9")
    assert "Gửi số thứ tự" in out[-1]
    await driver.say(SEC, "1 2 3")
    await driver.say(SEC, "Thống nhất chương trình: quán triệt nghị quyết, kiểm điểm giải ngân.")
    out = await driver.say(SEC, "1")
    assert "Đã ghi biên bản họp chi ủy" in out[-1]
    chiuy = driver.messenger.sent[-1].attachment
    assert chiuy is not None and "HỌP CHI ỦY" in "\n".join(
        p.text for p in Document(io.BytesIO(chiuy.data)).paragraphs)
    out = await driver.say(SEC, "/sotay truoc https://sotay.dangcongsan.vn/tai-lieu/123")
    assert "74 giờ trước buổi họp" in out[-1]
    # The meeting, the minutes, the score.
    _cid, mid2 = await setup_month(driver, clock)
    assert mid2 == mid
    await _minutes(driver, mid)
    computed_max, computed = _computed_points(driver, mid)
    assert computed["prep_committee"][0] == 2 and "có biên bản" in computed["prep_committee"][1]
    assert computed["prep_documents"] == (2, "đăng trước 74 giờ")
    assert computed["conduct_minutes"][0] == 1 and computed["conduct_docs"][0] == 1
    assert computed["conduct_speakers"][0] == 5  # 4 speakers of 5 present, from opinions
    assert computed["results_tasks"][0] == 30 and computed["close_resolution"][0] == 2
    assert computed_max >= 55, (computed_max, sorted(computed))
    await score(driver, mid)  # minutes confirmed and now scored: the resolution is issued
    assert any("Đã ban hành nghị quyết Số 01-NQ/CB" in t for t in driver.messenger.texts())
    before = len(driver.messenger.sent)
    await driver.say(MEMBER, "/nghiquyet")
    got = driver.messenger.sent[before:]
    assert got[-1].attachment is not None
    assert got[-1].attachment.filename == "nghi-quyet-2026-12.docx"
    out = await driver.say(SEC, "/sotay sau đã đăng")
    assert "đăng lên Sổ tay" in out[0]
    # "Final documents within 2 days" was 0 at scoring (not typed): now known, the score
    # updates itself, audited, and the follower above is told.
    assert "Điểm buổi sinh hoạt tự cập nhật" in out[-1]
    with Session(driver.app.engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "score.auto_updated")).one()
        assert entry.detail["criteria"] == {"close_share": [0.0, 1.0]}
        assert entry.detail["total"] == entry.detail["previous"] + 1
    assert any("tự cập nhật khi văn bản kết luận được gửi: Gửi văn bản kết luận trong 2 ngày: "
               "0 → 1" in t for t in driver.messenger.texts())
    computed_max, computed = _computed_points(driver, mid)
    assert computed["close_share"][0] == 1 and computed["close_minutes"][0] == 2
    assert computed_max >= 57
    # An override with a reason wins over the computed value, and is kept.
    out = await driver.say(SEC, f"/dieuchinh #{mid} conduct_speakers 4 một ý kiến ngoài lề")
    assert "bot tính: 5" in out[-1]
    _max, computed = _computed_points(driver, mid)
    assert computed["conduct_speakers"] == (4.0, "đã điều chỉnh: một ý kiến ngoài lề "
                                                 "(bot tính: 5.0)")
    out = await driver.say(SEC, f"/dieuchinh #{mid} prep_content 3 lý do")
    assert "không phải tiêu chí bot tự tính" in out[-1]
    out = await driver.say(MEMBER, f"/dieuchinh #{mid} conduct_speakers 5 lý do")
    assert "không có quyền" in out[-1]
    with Session(driver.app.engine) as s:
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "score.auto_override")).one()
        assert s.exec(select(CommitteeMeeting)).one().attendees == {"ids": [
            driver.member(n).id for n in (SEC, "Trần Thị Bích Ngọc", "Lê Hoàng Minh")]}


async def test_bad_committee_and_sotay_input_changes_nothing(driver: Driver,
                                                             clock: FakeClock) -> None:
    cell = _cell(driver)
    _materialise(driver.app)
    clock.set(DEC_MEETING - timedelta(hours=50))
    await tick(driver.app)
    for text, reason in (("/sotay", "Cú pháp"), ("/sotay truoc", "Cú pháp"),
                         ("/sotay giua https://x.vn", "Cú pháp"),
                         ("/sotay truoc linh tinh", "https://")):
        out = await driver.say(SEC, text)
        assert reason in out[-1], (text, out)
    out = await driver.say(MEMBER, "/sotay truoc đã đăng")
    assert "không có quyền" in out[-1]
    out = await driver.say(MEMBER, "/hopchiuy")
    assert "không có quyền" in out[-1]
    await driver.say(SEC, "/hopchiuy")
    await driver.say(SEC, "1")
    out = await driver.say(SEC, "30/12/2026 09:00")
    assert "không thể ở tương lai" in out[-1]
    with Session(driver.app.engine) as s:
        assert not list(s.exec(select(MeetingRecord)))
        assert not list(s.exec(select(CommitteeMeeting)))
        assert s.get(Organisation, cell.id) is not None


async def test_minutes_book_and_text_version(driver: Driver, clock: FakeClock,
                                             tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _cid, mid = await setup_month(driver, clock)
    await score(driver, mid)
    await _minutes(driver, mid)
    # /status: which cells had no upper-level committee member at a meeting this quarter.
    out = await driver.say("Đỗ Mạnh Cường", "/status")  # officer of the base organisation
    line = next(t for t in out[-1].splitlines() if "cấp ủy cấp trên" in t)
    assert "quý 4" in line and "Chi bộ Phòng Quản lý ngân sách" in line
    # Two cells are called "Chi bộ Văn phòng Sở"; only the one the follower visited is out.
    assert line.count("Chi bộ Văn phòng Sở") == 1 and ": 3 chi bộ:" in line
    out = await driver.say("Trần Thị Bích Ngọc", "/status")  # the deputy: her cell's view
    assert "Quý 4: đã có cấp ủy cấp trên dự sinh hoạt." in out[-1]
    before = len(driver.messenger.sent)
    await driver.say(MEMBER, "/report sobienban 2026")
    book = driver.messenger.sent[before:][-1]
    assert book.attachment is not None and book.attachment.filename.startswith("so-bien-ban-")
    text = "\n".join(p.text for p in Document(io.BytesIO(book.attachment.data)).paragraphs)
    assert "SỔ GHI BIÊN BẢN SINH HOẠT CHI BỘ" in text and "Gồm 1 biên bản." in text
    assert "THÁNG 12 NĂM 2026" in text and f"Đồng chí {OPINIONS[0][1]}: {OPINIONS[0][2]}" in text
    out = await driver.say(MEMBER, "/sobienban 2025")
    assert "chưa có biên bản chính thức nào trong năm 2025" in out[-1]
    out = await driver.say(MEMBER, "/sobienban 2026 Chi bộ Phòng Quản lý ngân sách")
    assert "Không tìm thấy chi bộ" in out[-1]  # not hers to read
    # Review: the officer got "Chi bộ Văn phòng Sở chưa có biên bản …" (his own cell, whose
    # name two cells share) and not the cell with final minutes: he gets each cell's book
    # in his subtree that has final minutes, the cell named with its parent. Here he sits
    # in the other "Chi bộ Văn phòng Sở" (of the education department), without minutes.
    from models.member import Member

    with Session(driver.app.engine) as s:
        other = s.exec(select(Organisation).where(
            Organisation.name == "Chi bộ Văn phòng Sở",
            Organisation.parent_id == select(Organisation.id).where(
                Organisation.name == "Đảng bộ Sở Giáo dục và Đào tạo").scalar_subquery())).one()
        cuong = s.exec(select(Member).where(Member.full_name == "Đỗ Mạnh Cường")).one()
        cuong.cell_id = other.id
        s.add(cuong)
        s.commit()
    for cmd in ("/sobienban 2026", "/baocao sobienban 2026"):
        before = len(driver.messenger.sent)
        await driver.say("Đỗ Mạnh Cường", cmd)
        sent = driver.messenger.sent[before:]
        assert [o.text for o in sent] == ["Sổ ghi biên bản năm 2026 của Chi bộ Văn phòng Sở — "
                                          "Đảng bộ Sở Tài chính: 1 biên bản."]
        assert sent[0].attachment is not None
    out = await driver.say("Đỗ Mạnh Cường", "/sobienban 2025")
    assert "Chưa chi bộ nào trong phạm vi của đồng chí" in out[-1]
    # The CLI writes the same book.
    from bot.__main__ import main

    monkeypatch.setenv("CHIBOT_DATABASE__URL", driver.app.settings.database_url)
    assert main(["report", "--book", "minutes", "--year", "2026", "--org",
                 "Đảng bộ Sở Tài chính", "--out", str(tmp_path / "books")]) == 0
    assert main(["report", "--book", "minutes", "--year", "2025", "--org",
                 "Đảng bộ Sở Tài chính"]) == 1  # nothing final that year
    books = list((tmp_path / "books").iterdir())
    assert len(books) == 1 and "SỔ GHI BIÊN BẢN" in "\n".join(
        p.text for p in Document(str(books[0])).paragraphs)
    # Where files cannot be sent (Zalo), the recipient gets the whole text, then the file.
    with Session(driver.app.engine) as s:
        to_chat(s, "zalo", "z-1", filename="bien-ban.docx", data=b"x", caption="Biên bản",
                text="\n".join(f"{n}: {t}" for _k, n, t in OPINIONS), key="k-zalo",
                now=clock())
        to_chat(s, "telegram", "t-1", filename="bien-ban.docx", data=b"x",
                caption="Biên bản", text="FULL TEXT", key="k-tg", now=clock())
        s.commit()
        rows = {r.platform: to_outgoing(r) for r in s.exec(select(OutboxMessage).where(
            OutboxMessage.idempotency_key.in_(["k-zalo", "k-tg"])))}
    zalo: Outgoing = rows["zalo"]
    assert all(f"{n}: {t}" in zalo.text for _k, n, t in OPINIONS)
    assert rows["telegram"].text == "Biên bản" and rows["telegram"].attachment is not None


async def test_sotay_reminders_until_recorded(driver: Driver, clock: FakeClock) -> None:
    cell = _cell(driver)
    for n in (SEC, "Trần Thị Bích Ngọc"):
        driver.member(n)
    _materialise(driver.app)
    clock.set(DEC_MEETING - timedelta(hours=48))
    await tick(driver.app)
    sec_chat = f"dm-{driver.member(SEC).id}"
    assert any("Sổ tay đảng viên ít nhất 1 ngày trước" in t
               for t in driver.messenger.texts(sec_chat))
    _cid, mid = await setup_month(driver, clock)
    clock.set(DEC_MEETING + timedelta(hours=24))
    await tick(driver.app)
    after = [t for t in driver.messenger.texts(sec_chat) if "trong 2 ngày" in t]
    assert len(after) == 1
    assert "Đăng xong, đồng chí bấm nút dưới đây hoặc ghi: /sotay sau LINK." in after[0]
    reminder = next(o for o in driver.messenger.sent if o.text == after[0])
    assert [(b.label, b.data) for row in reminder.buttons for b in row] == [
        ("📤 Đã đăng lên Sổ tay", f"sts:{mid}")]  # the same as /sotay sau đã đăng
    out = await driver.say(SEC, "/sotay sau đã đăng")
    assert "đăng lên Sổ tay 21 giờ sau khi kết thúc" in out[-1]  # ended 09:45 (UTC+7)
    clock.set(DEC_MEETING + timedelta(hours=44))
    await tick(driver.app)  # recorded: no second reminder
    assert len([t for t in driver.messenger.texts(sec_chat) if "trong 2 ngày" in t]) == 1
    with Session(driver.app.engine) as s:
        rec = s.exec(select(MeetingRecord).where(MeetingRecord.meeting_id == mid)).one()
        assert rec.sotay_after_at == DEC_MEETING + timedelta(hours=24)
        assert rec.sotay_after_link is None and cell.id


async def test_correction_shows_a_computed_change_before_confirming(
        driver: Driver, clock: FakeClock) -> None:
    """Review: the roll call recorded 3 speakers, the score was saved with that; the minutes
    then named 4. A correction of one group recomputed the speakers' share and saved a
    new total with nothing said. One source (the minutes' named speakers once they exist,
    said in the note), and the change is shown in the pick prompt and the summary."""
    _cid, mid = await setup_month(driver, clock)
    with Session(driver.app.engine) as s:  # the roll call's count: 1 of the 5 present spoke
        m = s.get(Meeting, mid)
        m.speakers_count = 1
        s.add(m)
        s.commit()
    await score(driver, mid)
    await _minutes(driver, mid)
    out = await driver.say(SEC, f"/chamdiem #{mid}")
    assert "⚠️ Điểm bot tự tính đã thay đổi từ lần ghi trước" in out[-1]
    change = next(t for t in out[-1].splitlines() if t.startswith("• Tổ chức sinh hoạt"))
    assert "2 → 5" in change and "4/5 người phát biểu" in change and "theo biên bản" in change
    await driver.say(SEC, "3")
    await driver.say(SEC, "đủ")
    out = await driver.say(SEC, "Sửa theo ý kiến chi ủy")
    assert "⚠️ Điểm bot tự tính đã thay đổi" in out[-1] and change in out[-1]
