"""Words: Vietnamese names for the committee commands (English kept as aliases), one word
for the bot, and the reviewed wordings of issue 16."""

from __future__ import annotations

from bot.platforms.zalo import ZaloAdapter
from handlers.core.router import COMMANDS, command_menu
from models.messages import Attachment, Outgoing
from models.settings import ZaloSettings
from tests.helpers import Driver
from tests.test_status import month as month

OFFICER = "Đỗ Mạnh Cường"  # bloc officer


def test_committee_commands_are_vietnamese_with_english_aliases() -> None:
    menu = {c.name for c in command_menu()}
    for vi, en in (("tinhhinh", "status"), ("chuahop", "missing"), ("canhbao", "flags"),
                   ("baocao", "report")):
        assert vi in menu and en not in menu
        assert COMMANDS[vi].fn is COMMANDS[en].fn
    summaries = " ".join(c.summary for c in command_menu())
    assert "/tinhhinh" in summaries and "/baocao" in summaries
    assert "/status" not in summaries and "/report" not in summaries


async def test_english_alias_still_works(month, driver: Driver) -> None:  # type: ignore[no-untyped-def]
    vi = await driver.say(OFFICER, "/tinhhinh 11/2026")
    en = await driver.say(OFFICER, "/status 11/2026")
    assert vi == en and "Đảng bộ Khối" in vi[0]


async def test_unknown_command_and_flags_wording(month, driver: Driver) -> None:  # type: ignore[no-untyped-def]
    out = await driver.say(OFFICER, "/khongco")
    assert out == ["Không có lệnh /khongco. Đồng chí gõ /help để xem các lệnh."]
    out = await driver.say(OFFICER, "/canhbao")
    # Điều 8 as the year's rules count it (issue 12), the reviewed word order kept.
    assert "• Ngô Thị Mai (Chi bộ Văn phòng Sở — Đảng bộ Sở Tài chính): vắng không lý do 3, " \
           "chưa đóng đảng phí 0 tháng — thuộc diện xem xét xóa tên" in out[0]


async def test_welcome_calls_it_the_bot(driver: Driver) -> None:
    from models.messages import Chat, Incoming, Sender

    driver.app.handle(Incoming(platform="console", update_id="w1", chat=Chat("dm-x", "private"),
                               sender=Sender("x", "Khách"), text="/start"))
    await driver.app.sender.drain()
    text = driver.messenger.sent[-1].text
    assert "bot hỗ trợ sinh hoạt chi bộ" in text and "trợ lý" not in text


async def test_zalo_file_notice_wording() -> None:
    calls: list[tuple[str, dict]] = []  # type: ignore[type-arg]

    async def call(method: str, params: dict) -> dict:  # type: ignore[type-arg]
        calls.append((method, params))
        return {"message_id": "1"}

    adapter = ZaloAdapter(ZaloSettings(token="1:x"), lambda inc: True)
    adapter.call = call  # type: ignore[method-assign]
    await adapter.send(Outgoing("zalo", "c1", "Báo cáo", attachment=Attachment(
        "bao-cao.xlsx", b"x")))
    text = calls[0][1]["text"]
    assert "Tệp bao-cao.xlsx không gửi được qua Zalo; đề nghị đồng chí nhận qua Telegram " \
           "hoặc liên hệ quản trị hệ thống." in text
    assert "chibot report" not in text
