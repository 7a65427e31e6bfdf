"""The texts issue 23 listed as wrong, fixed; refusals that say who may; and the catalogue
check that fails on an English word (or a code_with_underscores) left in a Vietnamese
text."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from bot import catalogs
from bot.app import App
from handlers.core.labels import group_of
from handlers.forms import engine as forms
from handlers.forms.resume import TITLES, title
from handlers.year.marks import summary_notes
from models.reports import year
from tests.helpers import SEC, Driver, FakeClock
from tests.test_cycle import DEC_MEETING
from tests.test_plain_words import MEMBER, _two_held
from tests.test_status import month as month

ROOT = Path(__file__).resolve().parent.parent
OFFICER = "Đỗ Mạnh Cường"


def test_no_english_word_left_and_the_check_catches_one(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    assert catalogs.english_left() == []
    fake = Catalog()
    for text in ("Đồng chí đang minutes dở", "gửi “tán thành không_tán_thành”",
                 "Dùng /minutes hoặc {form} tại https://x.vn/form", "Biểu mẫu"):
        fake.add(text)
    monkeypatch.setattr(catalogs, "extract", lambda: fake)
    assert [w for _t, w in catalogs.english_left()] == ["minutes", "không_tán_thành"]
    assert catalogs.main(["check"]) == 1
    assert "English word “minutes” in a Vietnamese text: Đồng chí đang minutes dở" \
        in capsys.readouterr().out


def test_every_form_has_a_vietnamese_title() -> None:
    assert set(forms.FORMS) <= set(TITLES)
    assert title("minutes") == "ghi biên bản" and title("unknown") == "nhập liệu"


async def test_an_open_minutes_form_is_named_in_words(driver: Driver, clock: FakeClock) -> None:
    await _two_held(driver, clock)
    await driver.say(SEC, "/ghibienban 12/2026")
    out = await driver.say(SEC, "/chamdiem 12/2026")
    assert "Đồng chí đang ghi biên bản dở" in out[-1]
    assert "▶️ Tiếp tục ghi biên bản" in [label for label, _d in driver.last_buttons()]


async def test_refusals_say_who_may(driver: Driver, clock: FakeClock) -> None:
    reg, _extra = await _two_held(driver, clock)
    out = await driver.say(MEMBER, "/chamdiem")
    assert out[-1] == ("Xin lỗi, đồng chí không có quyền dùng lệnh /chamdiem: chỉ Bí thư hoặc "
                       "Phó Bí thư của chi bộ mới được dùng.")
    out = await driver.say(SEC, "/mochamdiem 12/2026")
    assert out[-1] == ("Xin lỗi, đồng chí không có quyền dùng lệnh /mochamdiem: chỉ cán bộ "
                       "theo dõi của cấp ủy cấp trên mới được dùng.")
    out = await driver.press(MEMBER, f"cf:{reg}")
    assert out[-1] == ("Xin lỗi, đồng chí không có quyền thực hiện việc này: chỉ cấp ủy viên "
                       "cấp trên được phân công phụ trách chi bộ mới được làm.")


def test_group_named_once() -> None:
    assert group_of("Chi bộ Văn phòng Sở", "Chi bộ Văn phòng Sở") == "nhóm của Chi bộ Văn phòng Sở"
    assert group_of(None, "Chi bộ A") == "nhóm của Chi bộ A"
    assert group_of("Zalo CB VP", "Chi bộ Văn phòng Sở") == \
        "nhóm Zalo CB VP của Chi bộ Văn phòng Sở"


def test_workbook_legend_and_classification_cite(sample: App) -> None:
    notes = summary_notes(year(2026), sample.settings)
    assert notes[0][0] == "Ô màu đỏ"
    rules = tomllib.loads((ROOT / "locales/classification/qd366-2025.toml")
                          .read_text(encoding="utf-8"))
    assert all("year." not in c["cites"] for c in rules["conditions"])


async def test_quarter_named_without_q(month, driver: Driver) -> None:  # type: ignore[no-untyped-def]
    out = await driver.say(OFFICER, "/canhbao")
    assert "quý Q" not in out[0]
    assert "Chi bộ chưa có sinh hoạt chuyên đề trong quý 4/2026:" in out[0]


def test_who_may_names_only_real_commands_and_buttons() -> None:
    from handlers.core.access import WHO_MAY
    from handlers.core.router import CALLBACKS, COMMANDS

    assert set(WHO_MAY) <= set(COMMANDS) | set(CALLBACKS)


async def test_review_small_texts(driver: Driver, clock: FakeClock) -> None:
    """Review: "/back" with no form said "Không có lệnh /back."; "/thuky Không Có Ai" asked
    "Có phải: —?"; a Sổ tay record just after the meeting said "0 giờ sau khi kết thúc"."""
    out = await driver.say(SEC, "/back")
    assert out == ["Không có biểu mẫu nào đang mở để quay lại bước trước."]
    await _two_held(driver, clock)
    out = await driver.say(SEC, "/thuky Không Có Ai")
    assert out == ["Không tìm thấy đồng chí “Không Có Ai” trong chi bộ."]
    clock.set(DEC_MEETING + timedelta(days=5, minutes=100))  # 5 min after the last ended
    out = await driver.say(SEC, "/sotay sau đã đăng")
    assert "chưa đầy 1 giờ sau khi kết thúc" in out[0] and "0 giờ" not in out[0]
