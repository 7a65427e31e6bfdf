"""/kehoach: the thematic plan of a year (3–4 topics, categories as data), thematic
meetings linked to their topic, plan against held in /status and the year workbook, the
category mix across the bloc; a forum is a meeting kind."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from openpyxl import load_workbook
from sqlmodel import Session, select

from bot.app import App
from models import reports
from models.plan import ThematicTopic
from tests.helpers import Driver, FakeClock
from tests.yearplay import held, org

QLNS = ("Chi bộ Phòng Quản lý ngân sách", "Đảng bộ Sở Tài chính")
SEC, MEMBER = "Dương Văn Thành", "Hồ Đức Thắng"


async def test_register_link_and_report(sample: App, driver: Driver, clock: FakeClock) -> None:
    clock.set(datetime(2026, 1, 10, 2, 0, tzinfo=UTC))
    out = await driver.say(SEC, "/kehoach 2026")
    assert "0 chủ đề" in out[0] and "Cần đăng ký 3–4 chủ đề" in out[0]
    assert "1. Học tập và làm theo tư tưởng" in out[0]
    for text in ("Quý 1 | 1 | Học tập Chỉ thị 05 về tác phong người đứng đầu | Đ/c Thành",
                 "Quý 2 | 4 | Phòng, chống lãng phí trong giải ngân | Đ/c Oanh",
                 "Q3 | tu_soi | Tự soi, tự sửa theo Quy định 144",
                 "4 | 1 | Làm theo gương Bác trong công việc hằng ngày | Đ/c Thắng"):
        out = await driver.say(SEC, f"/kehoach 2026 {text}")
        assert "Đã đăng ký chủ đề" in out[0], text
    # Bad input: each refused with the reason, nothing added.
    for text, reason in (("Quý 5 | 1 | Chủ đề gì đó", "Quý phải từ 1 đến 4"),
                         ("Quý 1 | 9 | Chủ đề gì đó", "Không có loại chủ đề “9”"),
                         ("Quý 1 | 1 | ab", "từ 5 đến 300 ký tự"),
                         ("chỉ một phần", "Cú pháp"),
                         ("Quý 1 | 1 | Thêm chủ đề thứ năm", "đã đăng ký đủ 4 chủ đề")):
        out = await driver.say(SEC, f"/kehoach 2026 {text}")
        assert reason in out[0], text
    out = await driver.say(MEMBER, "/kehoach 2026 Quý 1 | 1 | Chủ đề của tôi")
    assert "không có quyền" in out[0]
    out = await driver.say(MEMBER, "/kehoach 2026")  # members may read their cell's plan
    assert "4 chủ đề, đã thực hiện 0" in out[0]
    with Session(sample.engine) as s:
        cell = org(s, *QLNS)
        held(s, cell, 2026, 2, {}, thematic=True)  # Q1: combined with a thematic part
        held(s, cell, 2026, 5, {}, kind="thematic", seq=1)  # Q2: a thematic meeting
        held(s, cell, 2026, 8, {}, kind="forum", seq=1)  # a forum is not a thematic topic
        s.commit()
    out = await driver.say(SEC, "/kehoach 2026")
    assert "4 chủ đề, đã thực hiện 2" in out[0]
    assert "1. Quý 1 — Học tập Chỉ thị 05" in out[0] and "— đã thực hiện" in out[0]
    assert "3. Quý 3 — Tự soi, tự sửa theo Quy định 144 (Tự soi, tự sửa; xây dựng, chỉnh " \
        "đốn Đảng; trình bày: —) — chưa thực hiện" in out[0]
    out = await driver.say(SEC, "/kehoach 2026 xoa 1")
    assert "Không xóa được chủ đề số 1" in out[0]  # taken up already
    out = await driver.say(SEC, "/status 2026")
    assert "Chuyên đề năm 2026: đăng ký 4, đã thực hiện 2; diễn đàn: 1." in out[0]
    out = await driver.say("Đỗ Mạnh Cường", "/status 2026")  # the bloc: category mix
    assert "Cơ cấu chủ đề: Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh " \
        "(Chỉ thị 05) 50%" in out[0]
    from handlers.committee.exports import workbook

    with Session(sample.engine) as s:
        bloc = org(s, "Đảng bộ Khối các cơ quan tỉnh")
        wb = load_workbook(io.BytesIO(workbook(s, bloc, reports.year(2026), sample.settings)))
        assert len(s.exec(select(ThematicTopic)).all()) == 4
    rows = {r[0]: r[1:] for r in wb["Kế hoạch chuyên đề"].iter_rows(min_row=2,
                                                                   values_only=True)}
    assert rows[f"{QLNS[0]} — {QLNS[1]}"] == (4, 2, 1)
    assert rows["Loại chủ đề: Phòng, chống tham nhũng, lãng phí, tiêu cực"][:2] == (1, 0.25)
    out = await driver.say(SEC, "/kehoach 2026 xoa 3")
    assert "Đã xóa chủ đề số 3" in out[0]
