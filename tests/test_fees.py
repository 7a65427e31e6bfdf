"""Đảng phí: /dangphi records a month (amounts as whole đồng, the usual amount
remembered), bad items change nothing, /toi shows a member's own record, /sodangphi gives
the fee book with quarterly sums, and unpaid months feed Điều 8."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from handlers.forms.amounts import parse_amount
from handlers.forms.engine import Invalid
from models.fees import FeePayment
from tests.helpers import Driver
from tests.yearplay import member

SEC, MEMBER = "Dương Văn Thành", "Hồ Đức Thắng"
# The cell's active members in list order (Member.id): 8, Trịnh Văn Hùng exempted from
# meetings still pays fees.
ORDER = ["Dương Văn Thành", "Lý Thị Kim Oanh", "Hồ Đức Thắng", "Mai Thị Phương",
         "Trịnh Văn Hùng", "Phan Thị Thúy", "Châu Minh Tuấn", "Tạ Thị Hạnh"]


@pytest.mark.parametrize(("text", "amount"), [
    ("50.000", 50_000), ("50,000", 50_000), ("50000", 50_000), ("50k", 50_000),
    ("50 K", 50_000), ("50 nghìn", 50_000), ("50 ngàn", 50_000), ("50.000đ", 50_000),
    ("50.000 đồng", 50_000), ("1,5 triệu", 1_500_000), ("2,5k", 2_500),
    ("1.234.567", 1_234_567), ("50 000", 50_000), ("1 500 000 đ", 1_500_000)])
def test_amounts_understood(text: str, amount: int) -> None:
    assert parse_amount(text, max_amount=10_000_000) == amount


@pytest.mark.parametrize(("text", "reason"), [
    ("50,5", "số đồng nguyên"), ("50.00", "số đồng nguyên"), ("50", "quá nhỏ"),
    ("0", "ghi “chưa”"), ("-50.000", "không được âm"), ("năm chục", "không phải là số tiền"),
    ("50.0000", "không phải là số tiền"), ("20 triệu", "vượt mức tối đa"),
    ("1,2345k", "không phải là số tiền"), ("", "Chưa ghi số tiền")])
def test_amounts_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(Invalid, match=reason):
        parse_amount(text, max_amount=10_000_000)


@pytest.mark.parametrize(("text", "reading"), [
    ("30 3 40", "bot sẽ đọc là 30.340 đ"), ("20 000 3", "bot sẽ đọc là 200.003 đ"),
    ("0 0 0 0", "bot không đọc được"), ("5 0 0 0 0", "bot sẽ đọc là 50.000 đ"),
    ("50 00", "bot sẽ đọc là 5.000 đ")])
def test_digits_split_by_spaces_are_refused_with_the_reading(text: str, reading: str) -> None:
    with pytest.raises(Invalid, match=f"không rõ số tiền \\({reading}"):
        parse_amount(text, max_amount=10_000_000)


async def test_forgotten_semicolon_stores_nothing(driver: Driver) -> None:
    out = await driver.say(SEC, "/dangphi 11/2026 1 30 3 40")
    assert "Chưa ghi gì" in out[0] and "bot sẽ đọc là 30.340 đ" in out[0]
    out = await driver.say(SEC, "/dangphi 11/2026 1 20 000 3")
    assert "bot sẽ đọc là 200.003 đ" in out[0]
    out = await driver.say(SEC, "/dangphi 11/2026 5 0 0 0 0")
    assert "không rõ số tiền" in out[0]
    assert _fees(driver, "2026-11") == {}
    out = await driver.say(SEC, "/dangphi 11/2026 1 30 000; 3 40 000")
    assert _fees(driver, "2026-11") == {"Dương Văn Thành": (True, 30_000),
                                        "Hồ Đức Thắng": (True, 40_000)}


def _fees(driver: Driver, period: str) -> dict[str, tuple[bool, int]]:
    with Session(driver.app.engine) as s:
        rows = s.exec(select(FeePayment).where(FeePayment.period == period)).all()
        return {member_name(s, f.member_id): (f.paid, f.amount) for f in rows}


def member_name(s: Session, mid: int) -> str:
    from models.member import Member

    m = s.get(Member, mid)
    assert m is not None
    return m.full_name


def _no_sheet_amounts(driver: Driver) -> None:
    """As if the member sheet had no "Mức đóng" column."""
    from models.member import Member

    with Session(driver.app.engine) as s:
        for m in s.exec(select(Member)):
            m.fee_amount = None
            s.add(m)
        s.commit()


async def test_record_month_usual_amount_and_bad_items(driver: Driver) -> None:
    _no_sheet_amounts(driver)
    out = await driver.say(SEC, "/dangphi 11/2026")
    assert "Đảng phí tháng 11/2026" in out[0] and "3. Hồ Đức Thắng: chưa ghi" in out[0]
    # Nobody has a usual amount yet: "tất cả" asks once for all of them, writes nothing.
    out = await driver.say(SEC, "/dangphi 11/2026 tất cả")
    assert "Chưa biết mức đóng của 8 đồng chí:" in out[0] and "8. Tạ Thị Hạnh" in out[0]
    assert _fees(driver, "2026-11") == {}
    await driver.say(SEC, "/huy")
    # One bad item in a list: nothing at all is written, each problem is named.
    out = await driver.say(SEC, "/dangphi 11/2026 1 50.000; 3 50,5; 9 50k; bốn")
    assert "Chưa ghi gì" in out[0]
    assert "3: “50,5”" in out[0] and "số 9" in out[0] and "“bốn”" in out[0]
    assert _fees(driver, "2026-11") == {}
    out = await driver.say(SEC, "/dangphi 11/2026 1 50.000; 2 50,000; 3 50k; 4 50 nghìn; "
                                "5 30.000; 6 40k; 7 chưa; 8 45.000")
    assert "7 đồng chí đã đóng (315.000 đ); 1 chưa đóng" in out[0]
    got = _fees(driver, "2026-11")
    assert got["Hồ Đức Thắng"] == (True, 50_000) and got["Châu Minh Tuấn"] == (False, 0)
    assert all(isinstance(a, int) for _p, a in got.values())
    # December: "tất cả" takes each member's usual amount; Tuấn has none yet, so he is
    # given explicitly; 6 "rồi" is the usual 40k.
    out = await driver.say(SEC, "/dangphi 12/2026 7 50k; tất cả")
    assert "8 đồng chí đã đóng (365.000 đ)" in out[0]
    assert _fees(driver, "2026-12")["Phan Thị Thúy"] == (True, 40_000)
    out = await driver.say(SEC, "/dangphi 12/2026")
    assert "6. Phan Thị Thúy: đã đóng 40.000 đ (thường lệ 40.000 đ)" in out[0]
    out = await driver.say(SEC, "/dangphi 13/2026 tất cả")
    assert "Không hiểu tháng" in out[0]


async def test_first_month_all_paid_from_the_sheet_and_missing_amounts_asked_once(
        driver: Driver) -> None:
    """Issue 23: the sheet's "Mức đóng" makes "tất cả" work in month one; a member without
    one is asked for in one message; the reply shows the month's total and who is left."""
    from models.member import Member

    with Session(driver.app.engine) as s:  # two members' sheet cells were empty
        for name in ("Phan Thị Thúy", "Tạ Thị Hạnh"):
            m = member(s, name)
            m.fee_amount = None
            s.add(m)
        s.commit()
        assert s.exec(select(Member).where(Member.full_name == SEC)).one().fee_amount == 100_000
    out = await driver.say(SEC, "/dangphi tất cả; 7 chưa")  # this month: 11/2026
    assert out[0].startswith("(1/1) Chưa biết mức đóng của 2 đồng chí:\n1. Phan Thị Thúy\n"
                             "2. Tạ Thị Hạnh\n")
    assert _fees(driver, "2026-11") == {}
    out = await driver.say(SEC, "50k; 1 trăm")
    assert "1. Phan Thị Thúy" not in out[0] and "2. Tạ Thị Hạnh:" in out[0]  # only the bad one
    out = await driver.say(SEC, "50k; chưa")
    assert "Đã ghi đảng phí tháng 11/2026: 6 đồng chí đã đóng (450.000 đ); 2 chưa đóng." \
        in out[0]
    assert "Cả tháng 11/2026: 6/8 đồng chí đã đóng, tổng 450.000 đ." in out[0]
    assert "Chưa đóng: Châu Minh Tuấn, Tạ Thị Hạnh." in out[0]
    got = _fees(driver, "2026-11")
    assert got["Phan Thị Thúy"] == (True, 50_000) and got["Trịnh Văn Hùng"] == (True, 80_000)
    # The fee button opens the form: one tap records everyone not yet recorded.
    out = await driver.press(SEC, "fe:2026-12")
    assert "Đảng phí tháng 12/2026" in out[0]
    out = await driver.say(SEC, "1")  # the form's first button
    # Hạnh has neither a sheet amount nor a payment yet: asked for, alone.
    assert "Chưa biết mức đóng của 1 đồng chí:\n1. Tạ Thị Hạnh" in out[0]
    out = await driver.say(SEC, "65.000")
    assert "Cả tháng 12/2026: 8/8 đồng chí đã đóng, tổng 585.000 đ." in out[0]
    assert "Đã ghi đủ cả chi bộ." in out[0]
    # Only the cell's leaders open it.
    out = await driver.press(MEMBER, "fe:2026-12")
    assert "không có quyền" in out[0]


async def test_only_leaders_record_and_members_see_their_own(driver: Driver) -> None:
    out = await driver.say(MEMBER, "/dangphi 11/2026 3 50k")
    assert "không có quyền" in out[0]
    assert _fees(driver, "2026-11") == {}
    await driver.say(SEC, "/dangphi 10/2026 3 50k")
    await driver.say(SEC, "/dangphi 11/2026 3 chưa")
    out = await driver.say(MEMBER, "/toi")
    assert "Đảng phí năm 2026: đã đóng 1 tháng (50.000 đ). Chưa đóng: 11/2026." in out[0]
    out = await driver.say(MEMBER, "/sodangphi")
    assert "không có quyền" in out[0]


async def test_unpaid_months_feed_dieu8_and_member_is_told_politely(driver: Driver) -> None:
    driver.member(MEMBER)
    await driver.say(SEC, "/dangphi 9/2026 3 chưa")
    out = await driver.say(SEC, "/dangphi 10/2026 3 chưa")
    assert any("Hồ Đức Thắng: vắng không lý do 0, chưa đóng đảng phí 2 tháng" in t
               for t in out)
    told = driver.messenger.texts(f"dm-{driver.member(MEMBER).id}")
    assert any("Kính gửi đồng chí Hồ Đức Thắng" in t and "không lý do" not in t
               and "năm 2026 đồng chí chưa đóng đảng phí 2 tháng." in t for t in told)
    out = await driver.say(SEC, "/dangphi 11/2026 3 chưa")
    assert "thuộc diện xem xét xóa tên" in out[-1]
    out = await driver.say(SEC, "/flags")
    assert "Hồ Đức Thắng" in out[0] and "chưa đóng đảng phí 3 tháng" in out[0]
    group = driver.messenger.texts(f"group-{driver.member(MEMBER).cell_id}")
    assert not any("Hồ Đức Thắng" in t for t in group)  # never in the group


async def test_fee_book_has_a_row_a_member_a_column_a_month_and_quarters(
        driver: Driver) -> None:
    await driver.say(SEC, "/dangphi 1/2026 1 50.000; 3 50k; 7 chưa")
    await driver.say(SEC, "/dangphi 4/2026 1 60.000; 3 50k")
    out = await driver.say(SEC, "/sodangphi 2026")
    assert "• Quý 1: 100.000 đ (2 lượt đóng, 1 lượt chưa đóng)" in out[0]
    assert "• Quý 2: 110.000 đ" in out[0] and "Cả năm: 210.000 đ." in out[0]
    book = driver.messenger.sent[-1].attachment
    assert book.filename.endswith("-2026.xlsx")
    wb = load_workbook(io.BytesIO(book.data))
    ws = wb["Sổ thu đảng phí"]
    rows = {r[1]: r for r in ws.iter_rows(min_row=3, values_only=True)}
    assert list(rows)[:-1] == ORDER
    assert rows["Dương Văn Thành"][2:16] == (50_000, None, None, 60_000, *[None] * 8,
                                              110_000, 0)
    assert rows["Châu Minh Tuấn"][15] == 1  # one unpaid month
    assert rows["Tổng"][2] == 100_000 and rows["Tổng"][14] == 210_000
    quarters = list(wb["Theo quý"].iter_rows(min_row=2, values_only=True))
    assert quarters[:2] == [(1, 100_000, 2, 1), (2, 110_000, 2, 0)]
    out = await driver.say(SEC, "/sodangphi hai")
    assert "Năm không hợp lệ" in out[0]
    with Session(driver.app.engine) as s:
        assert member(s, SEC).id


async def test_huge_and_exotic_numbers_are_refused_politely(driver: Driver) -> None:
    huge = "9" * 5000
    for who, text in ((SEC, f"/dangphi 11/2026 1 {huge}"), (SEC, f"/dangphi 11/2026 {huge} 5k"),
                      (SEC, f"/sodangphi {huge}"), (SEC, "/sodangphi ２０２６"),
                      (SEC, f"/danhgia 2026 {huge} 1"), (SEC, f"/kehoach 2026 xoa {huge}"),
                      (SEC, "/kehoach 2026 Quý ٣ | 1 | Chủ đề thử nghiệm"),
                      (SEC, f"/lydo {huge} lý do"), ("Nguyễn Văn An", f"/duyet 2026 {huge}")):
        out = await driver.say(who, text)
        assert out and "gặp sự cố" not in out[0], text
    assert _fees(driver, "2026-11") == {}
    assert "không phải là số tiền" in (await driver.say(SEC, f"/dangphi 11/2026 1 {huge}"))[0]


async def test_months_far_ahead_are_refused(driver: Driver) -> None:
    """Today is 24/11/2026: fees paid in advance go up to 11/2027, not 12/2099."""
    for text in ("/dangphi 12/2099 1 50k", "/dangphi 12/2099", "/dangphi 12/2027 1 50k"):
        out = await driver.say(SEC, text)
        assert "còn quá xa" in out[0] and "11/2027" in out[0], (text, out)
    assert _fees(driver, "2099-12") == {} and _fees(driver, "2027-12") == {}
    out = await driver.say(SEC, "/dangphi 11/2027 1 50k")
    assert _fees(driver, "2027-11") == {"Dương Văn Thành": (True, 50_000)}


async def test_years_not_yet_come_are_not_reviewed(driver: Driver) -> None:
    for text in ("/danhgia 2099", "/danhgia 2027", "/duyet 2099"):
        out = await driver.say(SEC if "danhgia" in text else "Đỗ Mạnh Cường", text)
        assert "chưa đến" in out[0] and "2026" in out[0], (text, out)
    out = await driver.say(SEC, "/danhgia 2026")
    assert "chưa đến" not in out[0]
    out = await driver.say(SEC, "/kehoach 2099 Quý 1 | 1 | Chủ đề")  # a plan: next year at most
    assert "Năm không hợp lệ" in out[0]
    out = await driver.say(SEC, "/kehoach 2027")
    assert "Năm không hợp lệ" not in out[0]
