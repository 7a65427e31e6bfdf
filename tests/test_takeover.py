"""Group takeover, code guessing and second accounts (issue 14, items 5, 7 and 8)."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session, select

from models.member import Identity, LinkCode, Member, new_link_code
from models.messages import Chat, Incoming, Sender
from models.org import ChatBinding, Organisation
from tests.helpers import QLNS, SEC, Driver, FakeClock

OTHER_CELL = "Chi bộ Phòng Giáo dục Trung học"
OTHER_SEC = "Lâm Văn Sơn"  # its secretary, in another base organisation
OFFICER = "Nguyễn Văn An"  # officer of the base organisation above QLNS


def _cell(driver: Driver, name: str) -> Organisation:
    with Session(driver.app.engine) as s:
        return s.exec(select(Organisation).where(Organisation.name == name)).one()


def _chat_code(driver: Driver, cell: Organisation) -> str:
    with Session(driver.app.engine) as s:
        code = new_link_code(s, purpose="chat", org_id=cell.id, now=driver.app.clock()).code
        s.commit()
    return code


async def _in_group(driver: Driver, name: str, group: Organisation, text: str) -> list[str]:
    before = len(driver.messenger.sent)
    inc = driver.incoming(name, text, group=True)
    driver.app.handle(replace(inc, chat=Chat(f"group-{group.id}", "group", "Nhóm QLNS")))
    await driver.app.sender.drain()
    return [o.text for o in driver.messenger.sent[before:]]


def _binding(driver: Driver, group: Organisation) -> ChatBinding:
    with Session(driver.app.engine) as s:
        return s.exec(select(ChatBinding).where(
            ChatBinding.chat_id == f"group-{group.id}")).one()


async def test_another_cells_code_needs_the_officers_confirmation(driver: Driver) -> None:
    qlns, other = _cell(driver, QLNS), _cell(driver, OTHER_CELL)
    driver.member(SEC)  # binds the QLNS group to QLNS
    driver.member(OFFICER)
    code = _chat_code(driver, other)
    out = await _in_group(driver, OTHER_SEC, qlns, f"/link {code}")
    assert any("cần cán bộ Đảng ủy cấp trên xác nhận" in t for t in out)
    assert _binding(driver, qlns).org_id == qlns.id  # nothing moved yet
    ask = [o for o in driver.messenger.sent if "đề nghị chuyển nhóm" in o.text]
    assert len(ask) == 1 and ask[0].chat_id == f"dm-{driver.member(OFFICER).id}"
    yes = ask[0].buttons[0][0].data
    out = await driver.press(SEC, yes)  # the old cell's secretary is not the officer
    assert "không có quyền" in out[0]
    driver.messenger.clear()
    out = await driver.press(OFFICER, yes)
    assert _binding(driver, qlns).org_id == other.id
    texts = {o.chat_id: o.text for o in driver.messenger.sent}
    assert "đã được gắn với " + OTHER_CELL in texts[f"group-{qlns.id}"]
    assert "không còn gắn với " + QLNS in texts[f"dm-{driver.member(SEC).id}"]
    out = await driver.press(OFFICER, yes)  # replayed: the code is used
    assert "không còn hiệu lực" in out[0]


async def test_refused_takeover_changes_nothing_and_burns_the_code(driver: Driver) -> None:
    qlns, other = _cell(driver, QLNS), _cell(driver, OTHER_CELL)
    driver.member(SEC)
    driver.member(OFFICER)
    code = _chat_code(driver, other)
    await _in_group(driver, OTHER_SEC, qlns, f"/link {code}")
    ask = next(o for o in driver.messenger.sent if "đề nghị chuyển nhóm" in o.text)
    out = await driver.press(OFFICER, ask.buttons[0][1].data)
    assert "vẫn gắn với " + QLNS in out[-1]
    assert _binding(driver, qlns).org_id == qlns.id
    with Session(driver.app.engine) as s:
        assert s.get(LinkCode, code).used_at is not None


async def test_only_leaders_and_officers_redeem_a_group_code(driver: Driver) -> None:
    qlns = _cell(driver, QLNS)
    code = _chat_code(driver, qlns)
    group = Chat("-300", "group", "Nhóm mới")
    member = driver.incoming("Hồ Đức Thắng", f"/link {code}")
    driver.app.handle(replace(member, chat=group))
    stranger = Incoming(platform="console", update_id="s1", chat=group,
                        sender=Sender("x1", "Người lạ"), text=f"/link {code}")
    driver.app.handle(stranger)
    await driver.app.sender.drain()
    assert all("không có quyền" in t for t in driver.messenger.texts("-300"))
    with Session(driver.app.engine) as s:
        assert s.exec(select(ChatBinding).where(ChatBinding.chat_id == "-300")).first() is None
        assert s.get(LinkCode, code).used_at is None
    deputy = driver.incoming("Lý Thị Kim Oanh", f"/link {code}")
    driver.app.handle(replace(deputy, chat=group))
    await driver.app.sender.drain()
    assert "đã được gắn với" in driver.messenger.texts("-300")[-1]


async def test_wrong_codes_are_rate_limited_per_account(driver: Driver, clock: FakeClock) -> None:
    with Session(driver.app.engine) as s:
        ha = s.exec(select(Member).where(Member.full_name == "Phạm Thị Thu Hà")).one()
        code = new_link_code(s, purpose="member", member_id=ha.id, now=clock()).code
        s.commit()

    async def start(user: str, text: str) -> str:
        inc = Incoming(platform="console", update_id=f"{user}-{text}-{clock().isoformat()}",
                       chat=Chat(user, "private"), sender=Sender(user, "Ai đó"), text=text)
        before = len(driver.messenger.sent)
        driver.app.handle(inc)
        await driver.app.sender.drain()
        return driver.messenger.sent[before].text

    for i in range(5):
        assert "không đúng" in await start("666", f"/start WRONG{i}")
    out = await start("666", f"/start {code}")  # even the right code, while locked
    assert "sai mã 5 lần" in out and "15 phút" in out
    assert "không đúng" in await start("667", "/start WRONGX")  # other accounts are not
    clock.advance(minutes=16)
    assert "Đã liên kết" in await start("666", f"/start {code}")


async def test_second_account_replaces_the_first_who_is_told(
        driver: Driver, clock: FakeClock) -> None:
    sec = driver.member(SEC)
    with Session(driver.app.engine) as s:
        ha = s.exec(select(Member).where(Member.full_name == "Hồ Đức Thắng")).one()
        ha_id = ha.id
        codes = [new_link_code(s, purpose="member", member_id=ha.id, now=clock(),
                               created_by=sec.id).code for _ in range(2)]
        s.commit()
    for user, code in (("801", codes[0]), ("802", codes[1])):
        driver.app.handle(Incoming(platform="console", update_id=f"u{user}",
                                   chat=Chat(user, "private"), sender=Sender(user, "Thắng"),
                                   text=f"/start {code}"))
    await driver.app.sender.drain()
    to_old = driver.messenger.texts("801")
    assert any("không còn nhận thông báo" in t for t in to_old)
    assert any("đã được thay bằng tài khoản mới" in t
               for t in driver.messenger.texts(f"dm-{sec.id}"))
    with Session(driver.app.engine) as s:
        idents = s.exec(select(Identity).where(Identity.platform == "console",
                                             Identity.member_id == ha_id)).all()
        assert [i.platform_user_id for i in idents] == ["802"]


async def _try_code(driver: Driver, clock: FakeClock, user: str, text: str,
                    chat: Chat | None = None) -> str:
    inc = Incoming(platform="console", update_id=f"{user}-{text}-{clock().isoformat()}",
                   chat=chat or Chat(user, "private"), sender=Sender(user, "Ai đó"),
                   text=text, mentions_bot=chat is not None)
    before = len(driver.messenger.sent)
    driver.app.handle(inc)
    await driver.app.sender.drain()
    return driver.messenger.sent[before].text


async def test_a_guess_spread_over_many_accounts_is_slowed_down(
        driver: Driver, clock: FakeClock) -> None:
    """300 wrong codes over 60 accounts (5 each, in turn, a few seconds apart): past the
    deployment's budget each account that already typed a wrong code waits, a fresh one
    gets one try, so 60 codes are checked instead of 300; meanwhile a member typing their
    own code right (first try) is linked, and the guard lifts when the window has passed."""
    with Session(driver.app.engine) as s:
        ha = s.exec(select(Member).where(Member.full_name == "Phạm Thị Thu Hà")).one()
        thang = s.exec(select(Member).where(Member.full_name == "Hồ Đức Thắng")).one()
        code_ha = new_link_code(s, purpose="member", member_id=ha.id, now=clock()).code
        code_thang = new_link_code(s, purpose="member", member_id=thang.id, now=clock()).code
        s.commit()
    checked = refused = 0
    for round_ in range(5):
        for account in range(60):
            out = await _try_code(driver, clock, f"9{account:03d}", f"/start X{round_}{account}")
            checked += "không đúng" in out
            refused += "nhiều lần nhập sai mã liên kết" in out
            clock.advance(seconds=2)
    assert checked == 60 and refused == 240  # 30 within the budget, then 1 per fresh account
    assert "Đã liên kết" in await _try_code(driver, clock, "7001", f"/start {code_ha}")
    out = await _try_code(driver, clock, "9000", f"/start {code_thang}")  # a guesser: waits
    assert "nhiều lần nhập sai mã liên kết" in out and "thử lại sau" in out
    clock.advance(minutes=16)  # the 15-minute budget is free again
    assert "Đã liên kết" in await _try_code(driver, clock, "9000", f"/start {code_thang}")


async def test_wrong_group_codes_are_limited_per_cell_but_not_for_its_leaders(
        driver: Driver, clock: FakeClock) -> None:
    """Wrong /link codes typed in one group by many accounts: past 10 the group takes no
    code from them for the window; the cell's secretary still binds it with the right code."""
    qlns = _cell(driver, QLNS)
    code = _chat_code(driver, qlns)
    group = Chat("-4000", "group", "Nhóm mới")
    outs = [await _try_code(driver, clock, f"88{i}", f"/link WRONG{i}", group) for i in range(12)]
    assert sum("không đúng" in o for o in outs) == 10
    assert all("nhiều lần nhập sai mã gắn nhóm" in o for o in outs[10:])
    other = Chat("-4001", "group", "Nhóm khác")  # another unbound group has its own limit
    assert "không đúng" in await _try_code(driver, clock, "8899", "/link WRONGZ", other)
    sec = driver.member(SEC)
    inc = Incoming(platform="console", update_id="sec-link", chat=group,
                   sender=Sender(f"m{sec.id}", SEC), text=f"/link {code}", mentions_bot=True)
    driver.app.handle(inc)
    await driver.app.sender.drain()
    assert "đã được gắn với " + QLNS in driver.messenger.texts("-4000")[-1]
