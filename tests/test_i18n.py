from datetime import UTC, date, datetime

from bot.catalogs import untranslated
from models.i18n import _, fmt_date, fmt_datetime, fmt_number, fmt_percent, use_locale
from tests.helpers import Driver


def test_every_text_has_an_english_translation() -> None:
    assert untranslated("en") == []


def test_vietnamese_is_the_default_and_english_translates() -> None:
    msg = "Nút này không còn hiệu lực."
    assert _(msg) == msg
    with use_locale("en"):
        assert _(msg) == "This button is no longer valid."
    with use_locale("fr-FR"):  # unknown locales fall back to Vietnamese
        assert _(msg) == msg


def test_dates_and_numbers_follow_the_locale() -> None:
    dt = datetime(2026, 12, 3, 0, 30, tzinfo=UTC)
    assert fmt_datetime(dt, "Asia/Ho_Chi_Minh") == "07:30 03/12/2026"
    assert fmt_date(date(2026, 1, 5)) == "05/01/2026"
    assert fmt_number(1234.5) == "1.234,5"
    assert fmt_percent(0.875) == "87,5%"
    with use_locale("en"):
        assert fmt_number(1234.5) == "1,234.5"
        assert fmt_percent(0.875) == "87.5%"


async def test_lang_switches_a_members_replies(driver: Driver) -> None:
    out = await driver.say("Phạm Thị Thu Hà", "/lang")
    assert "Chọn ngôn ngữ" in out[0]
    out = await driver.say("Phạm Thị Thu Hà", "2")  # numbered reply to the menu
    assert out == ["Switched to English."]
    out = await driver.say("Phạm Thị Thu Hà", "/toi")
    assert "full member" in out[0] and "Comrade" in out[0]
    out = await driver.say("Phạm Thị Thu Hà", "/lang vi")
    assert out == ["Đã chuyển sang tiếng Việt."]
