"""Every table of the web view downloads (issue 22): the meeting page, the member page and
the lists page as .xlsx and .csv, each with the page's figures, under the page's own
access check (403 otherwise), audited like a view, spreadsheet cells guarded against
formulas. On the demo bloc."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from models.attendance import Attendance
from models.audit import AuditEntry
from models.meeting import Meeting
from models.org import Organisation
from tests.helpers import FakeClock
from tests.test_web import _as, _org_id
from tests.webutil import NOW, link_for, member_named, seeded, sign_in, tables, web_client


@pytest.fixture
def bloc(engine, settings):  # type: ignore[no-untyped-def]
    return seeded(engine, settings)


@pytest.fixture
def web_clock() -> FakeClock:
    return FakeClock(NOW)


def _csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, as cells_csv writes
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def _sheet(body: bytes, title: str) -> list[tuple[Any, ...]]:
    return list(load_workbook(io.BytesIO(body))[title].iter_rows(values_only=True))


def _text(v: Any) -> str:
    return "" if v is None else str(v)


def _int(text: str) -> int:
    """A whole number as the page prints it ("1.250.000" in Vietnamese)."""
    return int(re.sub(r"[.,\s]", "", text))


def _qlns_meeting(engine) -> int:  # type: ignore[no-untyped-def]
    qlns = _org_id(engine, "Chi bộ Phòng Quản lý ngân sách")
    with Session(engine) as s:
        m = s.exec(select(Meeting).where(Meeting.cell_id == qlns, Meeting.period == "2026-10",
                                         Meeting.kind == "regular")).one()
        # A reason a spreadsheet would run as a formula: the downloads must neutralise it.
        a = s.exec(select(Attendance).where(Attendance.meeting_id == m.id)
                   .order_by(Attendance.id)).first()
        assert a is not None
        a.status, a.reason = "excused", "=HYPERLINK(\"http://x\")"
        s.add(a)
        s.commit()
        return m.id or 0


async def test_meeting_downloads_carry_the_pages_figures(engine, settings, bloc,
                                                         web_clock) -> None:
    mid = _qlns_meeting(engine)
    async with web_client(engine, settings, web_clock) as client:
        await _as(client, engine, "Dương Văn Thành")  # the cell's secretary
        html = await (await client.get(f"/web/meeting/{mid}")).text()
        assert f"/web/export/meeting/{mid}/xlsx" in html
        page = tables(html)
        roll = page.tables["attendance"][1:]
        assert roll
        got = await client.get(f"/web/export/meeting/{mid}/csv")
        assert got.status == 200 and got.content_type == "text/csv"
        assert f"buoi-sinh-hoat-{mid}.csv" in got.headers["Content-Disposition"]
        rows = _csv(await got.read())
        assert rows[0] == ["Họ và tên", "Trạng thái", "Lý do"]
        guarded = [r for r in rows if r[2].startswith("'=")]
        assert len(guarded) == 1  # the formula kept as text, quoted
        assert [[r[0], r[1], r[2].removeprefix("'")] for r in rows[1:]] == \
            [[n, s, w] for n, s, w in roll]
        xlsx = await (await client.get(f"/web/export/meeting/{mid}/xlsx")).read()
        sheet = _sheet(xlsx, "Điểm danh")
        assert [[_text(c) for c in r] for r in sheet[1:]] == [
            [r[0], r[1], r[2] if not r[2].startswith("=") else "'" + r[2]] for r in roll]
        row = _sheet(xlsx, "Buổi sinh hoạt")[1]
        attended, due = map(int, re.search(r"\((\d+)/(\d+)\)", html).groups())  # type: ignore[union-attr]
        assert (row[6], row[7]) == (due, attended)
        assert sum(1 for r in roll if r[1] == "Vắng không lý do") == row[9]
        assert "score-cell" in page.tables, "the demo's October meeting is scored"
        for kind, title in (("cell", "Điểm chi bộ"), ("confirmed", "Điểm cấp trên")):
            if f"score-{kind}" not in page.tables:
                continue
            html_items = page.tables[f"score-{kind}"][1:]
            items = _sheet(xlsx, title)[1:]
            assert items[len(html_items)][0] == "Tổng điểm"
            for html_row, x in zip(html_items, items[:len(html_items)], strict=True):
                assert html_row[0] == x[0]
                assert float(html_row[1].replace(",", ".")) == x[1]
                assert html_row[3] == x[3]


async def test_member_downloads_carry_the_pages_figures(engine, settings, bloc,
                                                        web_clock) -> None:
    me = member_named(engine, "Hồ Đức Thắng").id
    async with web_client(engine, settings, web_clock) as client:
        await _as(client, engine, "Hồ Đức Thắng")  # a member: his own page only
        html = await (await client.get(f"/web/member/{me}?p=y2026")).text()
        page = tables(html)
        got = await client.get(f"/web/export/member/{me}/csv?p=y2026")
        assert got.status == 200
        rows = _csv(await got.read())
        assert rows[1:] == page.tables["member-meetings"][1:] and len(rows) > 2
        xlsx = await (await client.get(f"/web/export/member/{me}/xlsx?p=y2026")).read()
        facts = dict(re.findall(r"<dt>([^<]+)</dt><dd[^>]*>([^<]+)</dd>", html))
        head, row = _sheet(xlsx, "Đảng viên")
        totals = dict(zip(head, row, strict=True))
        for key in ("Số buổi phải dự", "Có mặt", "Vắng có lý do", "Vắng không lý do"):
            assert totals[key] == int(facts[key]), key
        fees = _sheet(xlsx, "Đảng phí năm 2026")[1:]
        assert [[f[0], f[1], f[2]] for f in fees] == [
            [r[0], r[1], _int(r[2])] for r in page.tables["fees"][1:]] and fees
        other = member_named(engine, "Lâm Văn Sơn").id
        for fmt in ("xlsx", "csv"):
            assert (await client.get(f"/web/export/member/{other}/{fmt}")).status == 403


async def test_lists_downloads_carry_every_list(engine, settings, bloc, web_clock) -> None:
    async with web_client(engine, settings, web_clock) as client:
        await sign_in(client, link_for(engine, bloc, NOW))  # the bloc officer
        html = await (await client.get("/web/lists/1?p=y2026")).text()
        page = tables(html)
        xlsx = await client.get("/web/export/lists/1/xlsx?p=y2026")
        assert xlsx.status == 200
        body = await xlsx.read()
        wb = load_workbook(io.BytesIO(body))
        assert {"Điều 8", "Kế hoạch chuyên đề", "Đảng phí theo quý", "Xếp loại năm 2026",
                "Chỉ tiêu năm"} <= set(wb.sheetnames)
        assert [[_text(c) for c in r[:2]] for r in _sheet(body, "Điều 8")[1:]] == \
            [r[:2] for r in page.tables["dieu8"][1:]] and page.tables["dieu8"][1:]
        assert [list(r[1:]) for r in _sheet(body, "Điều 8")[1:]] != []
        for r, h in zip(_sheet(body, "Điều 8")[1:], page.tables["dieu8"][1:], strict=True):
            assert [r[2], r[3], r[4]] == [int(h[2]), int(h[3]), h[4]]
        plan = _sheet(body, "Kế hoạch chuyên đề")[1:]
        assert [list(r) for r in plan] == [[h[0], *map(int, h[1:])]
                                           for h in page.tables["plan"][1:]]
        fees = _sheet(body, "Đảng phí theo quý")[1:]
        assert [list(r) for r in fees] == [[h[0], *map(_int, h[1:])]
                                           for h in page.tables["fees"][1:]]
        cls = _sheet(body, "Xếp loại năm 2026")[1:]
        assert [[_text(c) for c in r] for r in cls] == page.tables["classification"][1:]
        for t in ("dieu8", "plan", "fees", "classification"):
            got = await client.get(f"/web/export/lists/1/csv?p=y2026&t={t}")
            assert got.status == 200
            assert f"danh-sach-1-y2026-{t}.csv" in got.headers["Content-Disposition"]
            rows = _csv(await got.read())[1:]
            html_rows = page.tables[t][1:]
            assert len(rows) == len(html_rows) > 0
            for r, h in zip(rows, html_rows, strict=True):
                assert r[0] == h[0]
                if t in ("plan", "fees"):
                    assert list(map(int, r[1:])) == list(map(_int, h[1:]))
        bad = await client.get("/web/export/lists/1/csv?p=y2026&t=../../etc")
        assert bad.status == 404 and "Không có tệp này" in await bad.text()
        assert (await client.get("/web/export/lists/1/pdf")).status == 404


async def test_downloads_outside_ones_scope_are_403_and_audited(engine, settings, bloc,
                                                                web_clock) -> None:
    gd = _org_id(engine, "Đảng bộ Sở Giáo dục và Đào tạo")
    gdth = _org_id(engine, "Chi bộ Phòng Giáo dục Trung học")
    with Session(engine) as s:
        theirs = s.exec(select(Meeting.id).where(Meeting.cell_id == gdth)).first()
        cell = s.get(Organisation, gdth)
        assert cell is not None and theirs is not None
    other = member_named(engine, "Lâm Văn Sơn").id  # in Sở Giáo dục
    forbidden = [f"/web/export/meeting/{theirs}/xlsx", f"/web/export/meeting/{theirs}/csv",
                 f"/web/export/member/{other}/xlsx", f"/web/export/member/{other}/csv",
                 f"/web/export/lists/{gd}/xlsx", f"/web/export/lists/{gd}/csv",
                 "/web/export/lists/1/xlsx", "/web/export/meeting/999999/csv",
                 "/web/export/member/abc/csv"]
    async with web_client(engine, settings, web_clock) as client:
        for path in forbidden:  # no session
            assert (await client.get(path)).status == 401, path
        await _as(client, engine, "Nguyễn Văn An")  # officer of Đảng bộ Sở Tài chính
        for path in forbidden:
            r = await client.get(path)
            assert r.status == 403, path
            assert "không có quyền" in (await r.text())
        tc = _org_id(engine, "Đảng bộ Sở Tài chính")
        assert (await client.get(f"/web/export/lists/{tc}/xlsx?p=y2026")).status == 200
    an = member_named(engine, "Nguyễn Văn An").id
    with Session(engine) as s:
        rows = list(s.exec(select(AuditEntry).where(AuditEntry.actor_id == an,
                                                    AuditEntry.action.in_(
                                                        ("web_view", "web_denied")))))
    seen = {(r.action, r.detail["path"]) for r in rows}
    assert ("web_denied", forbidden[0]) in seen
    assert ("web_view", f"/web/export/lists/{tc}/xlsx?p=y2026") in seen
