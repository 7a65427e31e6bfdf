"""/help and the command menus fitted to each role: a member, a secretary, an officer, an
upper-level follower (who is also another cell's secretary: the union, most important
first); "/help tất cả" for the rest; short enough for Zalo; menus per person on Telegram."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from bot.app import App
from bot.importer import import_file
from models.member import Member
from models.outbox import OutboxMessage
from tests.conftest import SAMPLE
from tests.helpers import SEC, Driver
from tests.test_telegram import TG
from tests.test_telegram import tg as tg

MEMBER = "Hồ Đức Thắng"
OFFICER = "Đỗ Mạnh Cường"  # bloc officer
FOLLOWER = "Nguyễn Văn An"  # follows QLNS, secretary of his own cell


def _commands(text: str) -> list[str]:
    return [line.split(" ")[0][1:] for line in text.splitlines() if line.startswith("/")]


async def test_help_per_role(driver: Driver) -> None:
    member = (await driver.say(MEMBER, "/help"))[-1]
    assert member.startswith("Các lệnh chính của đồng chí (Đảng viên):")
    assert _commands(member)[:3] == ["lichhop", "comat", "vang"]
    assert "diemdanh" not in _commands(member) and "tinhhinh" in _commands(member)
    secretary = (await driver.say(SEC, "/help"))[-1]
    assert secretary.startswith("Các lệnh chính của đồng chí (Bí thư, Phó Bí thư, Đảng viên):")
    assert _commands(secretary)[:2] == ["diemdanh", "chamdiem"]
    assert "/diemdanh — Ghi giờ họp và điểm danh sau buổi sinh hoạt\n" in secretary
    officer = (await driver.say(OFFICER, "/help"))[-1]
    assert _commands(officer)[:4] == ["tinhhinh", "chuahop", "canhbao", "baocao"]
    both = (await driver.say(FOLLOWER, "/help"))[-1]
    assert "(Bí thư, Phó Bí thư, Cán bộ theo dõi, Cấp ủy viên phụ trách, Đảng viên)" in both
    # Each of his roles gets its share, the secretary's work first.
    assert _commands(both) == ["diemdanh", "chamdiem", "ghibienban", "chuongtrinh", "tinhhinh",
                               "chuahop", "canhbao", "baocao", "lichhop", "bienban"]
    for text in (member, secretary, officer, both):
        lines = text.splitlines()
        assert len(lines) <= 12 and lines[-1] == "Gõ /help tất cả để xem mọi lệnh."
        assert len(text) < 2000  # Zalo's limit
        assert "(Bí thư)" not in text  # the heading says whose list it is
    everything = (await driver.say(MEMBER, "/help tat ca"))[-1]
    assert everything.startswith("Tất cả các lệnh:")
    assert {"sotay", "kenh", "diemdanh", "code"} <= set(_commands(everything))
    group = (await driver.say(MEMBER, "/help", group=True))[-1]
    assert _commands(group) == ["lichhop", "comat", "vang", "nhiemvu", "chibo"]


async def test_help_in_english_after_lang_en(driver: Driver) -> None:
    await driver.say(SEC, "/lang en")
    out = (await driver.say(SEC, "/help"))[-1]
    assert out.startswith("Your main commands (Secretary, deputy, Members):")
    # Review: the English help pointed at "/help tất cả"; it says "/help all", which works.
    assert out.splitlines()[-1] == "Send /help all to see every command."
    every = (await driver.say(SEC, "/help all"))[-1]
    assert every.startswith("All commands:") and "/sobienban" in every


async def test_telegram_menus_default_and_per_person(tg: TG) -> None:
    calls = [p for m, p in tg.emu.calls if m == "setMyCommands"]
    # One default menu per scope, in Vietnamese whatever the app's language.
    assert sorted(c["scope"]["type"] for c in calls) == [
        "all_chat_administrators", "all_group_chats", "all_private_chats"]
    assert all("language_code" not in c for c in calls)
    private = next(c for c in calls if c["scope"]["type"] == "all_private_chats")
    names = [c["command"] for c in private["commands"]]
    assert names[:3] == ["lichhop", "comat", "vang"] and "diemdanh" not in names
    assert "Đăng ký có mặt buổi sinh hoạt tới" in [c["description"] for c in private["commands"]]
    deleted = {(p["scope"]["type"], p["language_code"])
               for m, p in tg.emu.calls if m == "deleteMyCommands"}
    assert ("all_private_chats", "en") in deleted and ("all_private_chats", "vi") in deleted
    # A secretary who links gets a secretary's menu in his private chat.
    await tg.link(SEC, 101)
    await tg.link(MEMBER, 102)
    await tg.app.sender.drain()
    per_chat = {p["scope"]["chat_id"]: [c["command"] for c in p["commands"]]
                for m, p in tg.emu.calls
                if m == "setMyCommands" and p["scope"]["type"] == "chat"}
    assert per_chat[101][:2] == ["diemdanh", "chamdiem"] and per_chat[101][-1] == "help"
    assert "diemdanh" not in per_chat[102]
    # The menu follows the language he chooses.
    thanh = tg.emu.user(101, SEC)
    await tg.push(tg.emu.user_message(thanh, "/lang en"))
    await tg.app.sender.drain()
    last = [p for m, p in tg.emu.calls if m == "setMyCommands"
            and p["scope"].get("chat_id") == 101][-1]
    assert last["commands"][0]["description"] == "Record times and the roll call after a meeting"


def test_menu_queued_once_per_content(sample: App) -> None:
    """Linking twice or re-importing unchanged roles queues no second menu."""
    from handlers.onboarding.help import refresh_menu
    from models.member import Identity

    with Session(sample.engine) as s:
        m = s.exec(select(Member).where(Member.full_name == SEC)).one()
        s.add(Identity(member_id=m.id or 0, platform="telegram", platform_user_id="9",
                       private_chat_id="9", linked_at=sample.clock()))
        s.flush()
        assert refresh_menu(s, m, sample.clock()) == 1
        assert refresh_menu(s, m, sample.clock()) == 0
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.chat_id == "9")).all()
        assert len(rows) == 1 and rows[0].payload["menu"][0][0] == "diemdanh"


def test_menu_follows_an_appointment_by_import(sample: App, tmp_path: Path) -> None:
    """Hồ Đức Thắng appointed deputy in a re-import: his Telegram menu becomes a
    leader's; refreshing everyone at start queues nothing more."""
    from handlers.onboarding.help import refresh_all
    from models.member import Identity

    with Session(sample.engine) as s:
        m = s.exec(select(Member).where(Member.full_name == MEMBER)).one()
        s.add(Identity(member_id=m.id or 0, platform="telegram", platform_user_id="7",
                       private_chat_id="7", linked_at=sample.clock()))
        assert refresh_all(s, sample.clock()) == 1  # his member's menu
        s.commit()
    csv = SAMPLE.read_text(encoding="utf-8").replace(
        "Hồ Đức Thắng,52000113,Đảng viên", "Hồ Đức Thắng,52000113,Phó Bí thư")
    path = tmp_path / "bloc.csv"
    path.write_text(csv, encoding="utf-8")
    report = import_file(sample.engine, path, bloc_name="Đảng bộ Khối các cơ quan tỉnh",
                         timezone="Asia/Ho_Chi_Minh")
    assert report.ok, report.errors
    with Session(sample.engine) as s:
        menus = [r.payload["menu"] for r in s.exec(
            select(OutboxMessage).where(OutboxMessage.chat_id == "7").order_by(OutboxMessage.id))]
        assert [c[0] for c in menus[0]][:2] == ["lichhop", "comat"]
        assert [c[0] for c in menus[-1]][:2] == ["diemdanh", "chamdiem"]
        assert refresh_all(s, sample.clock()) == 0


async def test_english_telegram_app_gets_vietnamese(tg: TG) -> None:
    """A member whose Telegram app is in English: Vietnamese replies (and reminders) until
    he chooses /lang en."""
    user = tg.emu.user(103, MEMBER, lang="en")
    code = tg.code("member", member_id=tg.member(MEMBER).id or 0)
    await tg.push(tg.emu.user_message(user, f"/start {code}"))
    assert tg.emu.to(103)[-1].text.startswith("Đã liên kết tài khoản với hồ sơ của đồng chí")
    await tg.push(tg.emu.user_message(user, "/lichhop"))
    assert tg.emu.to(103)[-1].text.startswith("Lịch sinh hoạt của Chi bộ")
