from datetime import timedelta

from sqlmodel import Session, func, select

from models.member import Identity, LinkCode, Member, new_link_code
from models.messages import Chat, Incoming, Sender
from models.org import ChatBinding, Organisation
from models.outbox import OutboxMessage, ProcessedUpdate
from tests.helpers import Driver


def _tg(text: str, user: str = "777", chat: Chat | None = None, uid: str = "1",
        **kw) -> Incoming:  # type: ignore[no-untyped-def]
    return Incoming(platform="telegram", update_id=uid, chat=chat or Chat(user, "private"),
                    sender=Sender(user, "Người lạ"), text=text, **kw)


def _code(driver: Driver, purpose: str, **kw) -> str:  # type: ignore[no-untyped-def]
    with Session(driver.app.engine) as s:
        code = new_link_code(s, purpose=purpose, now=driver.app.clock(), **kw).code
        s.commit()
    return code


def _link_officer(driver: Driver) -> None:
    """Telegram user 777 becomes Nguyễn Văn An, an officer above the QLNS cell: only
    officers and a cell's secretary/deputy may redeem a group code."""
    with Session(driver.app.engine) as s:
        an = s.exec(select(Member).where(Member.full_name == "Nguyễn Văn An")).one()
    driver.app.handle(_tg(f"/start {_code(driver, 'member', member_id=an.id)}", uid="L"))


def _outbox_texts(driver: Driver) -> list[str]:
    with Session(driver.app.engine) as s:
        return [r.payload["text"] for r in s.exec(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_same_update_twice_is_handled_once(driver: Driver) -> None:
    inc = driver.incoming("Nguyễn Văn An", "/toi", update_id="dup-1")
    assert driver.app.handle(inc) is True
    assert driver.app.handle(inc) is False
    with Session(driver.app.engine) as s:
        assert s.exec(select(func.count()).select_from(OutboxMessage)).one() == 1
        assert s.exec(select(func.count()).select_from(ProcessedUpdate)).one() == 1


def test_unlinked_user_gets_an_explanation_and_nothing_else(driver: Driver) -> None:
    driver.app.handle(_tg("/chibo", uid="1"))
    driver.app.handle(_tg("xin chào", uid="2"))
    texts = _outbox_texts(driver)
    assert len(texts) == 2 and all("chưa được liên kết" in t for t in texts)
    with Session(driver.app.engine) as s:
        assert s.exec(select(Identity).where(Identity.platform == "telegram")).first() is None


def test_member_links_account_with_one_time_code(driver: Driver) -> None:
    with Session(driver.app.engine) as s:
        ha = s.exec(select(Member).where(Member.full_name == "Phạm Thị Thu Hà")).one()
    code = _code(driver, "member", member_id=ha.id)
    driver.app.handle(_tg(f"/start {code.lower()}", uid="1"))
    assert "Phạm Thị Thu Hà" in _outbox_texts(driver)[-1]
    with Session(driver.app.engine) as s:
        ident = s.exec(select(Identity).where(Identity.platform == "telegram")).one()
        assert ident.member_id == ha.id and ident.private_chat_id == "777"
        assert s.get(LinkCode, code).used_at is not None
    # The code is single-use: another account cannot reuse it.
    driver.app.handle(_tg(f"/start {code}", user="888", uid="2"))
    assert "không đúng hoặc đã hết hạn" in _outbox_texts(driver)[-1]


def test_expired_and_wrong_purpose_codes_are_refused(driver: Driver) -> None:
    with Session(driver.app.engine) as s:
        ha = s.exec(select(Member).where(Member.full_name == "Phạm Thị Thu Hà")).one()
        cell = s.get(Organisation, ha.cell_id)
    code = _code(driver, "member", member_id=ha.id)
    driver.app.clock.advance(hours=73)  # type: ignore[attr-defined]
    driver.app.handle(_tg(f"/start {code}", uid="1"))
    chat_code = _code(driver, "chat", org_id=cell.id)
    driver.app.handle(_tg(f"/start {chat_code}", uid="2"))
    texts = _outbox_texts(driver)
    assert all("hết hạn" in t for t in texts[-2:])
    with Session(driver.app.engine) as s:
        assert s.exec(select(Identity).where(Identity.platform == "telegram")).first() is None


def test_group_is_bound_with_code_and_moves_on_migration(driver: Driver) -> None:
    with Session(driver.app.engine) as s:
        cell = s.exec(select(Organisation).where(
            Organisation.name == "Chi bộ Phòng Quản lý ngân sách")).one()
    _link_officer(driver)
    code = _code(driver, "chat", org_id=cell.id)
    group = Chat("-100", "group", "Chi bộ VP")
    driver.app.handle(_tg("/link WRONGCODE", chat=group, uid="1"))
    driver.app.handle(_tg(f"/link@chibot_bot {code}", chat=group, uid="2"))
    assert "đã được gắn với" in _outbox_texts(driver)[-1]
    driver.app.handle(_tg("", chat=group, uid="3", event="chat_migrated",
                          extra={"new_chat_id": "-100999"}))
    with Session(driver.app.engine) as s:
        b = s.exec(select(ChatBinding).where(ChatBinding.platform == "telegram")).one()
        assert b.chat_id == "-100999" and b.org_id == cell.id and b.active


def test_bot_removed_deactivates_binding_and_tells_officers(driver: Driver) -> None:
    driver.member("Nguyễn Văn An")  # officer of the base organisation, console-linked
    with Session(driver.app.engine) as s:
        cell = s.exec(select(Organisation).where(
            Organisation.name == "Chi bộ Phòng Quản lý ngân sách")).one()
    _link_officer(driver)
    code = _code(driver, "chat", org_id=cell.id)
    group = Chat("-200", "group", "QLNS")
    driver.app.handle(_tg(f"/link {code}", chat=group, uid="1"))
    driver.app.handle(_tg("", chat=group, uid="2", event="bot_removed"))
    with Session(driver.app.engine) as s:
        assert not s.exec(select(ChatBinding).where(ChatBinding.chat_id == "-200")).one().active
        to_officer = s.exec(select(OutboxMessage).where(  # privately: console or telegram
            OutboxMessage.chat_id.like("dm-%") | (OutboxMessage.chat_id == "777"))).all()
    assert any("gỡ khỏi nhóm" in r.payload["text"] for r in to_officer)


async def test_forged_and_unknown_callbacks_change_nothing(driver: Driver) -> None:
    for data in ("zz:1", "code:abc", "code:999999", "lang:fr", "x" * 80, "f:", "lang"):
        out = await driver.press("Phạm Thị Thu Hà", data)
        assert out and ("không còn hiệu lực" in out[0] or "không có quyền" in out[0]
                        or "bước đã qua" in out[0]), (data, out)
    with Session(driver.app.engine) as s:
        assert s.exec(select(LinkCode)).first() is None
        ha = s.exec(select(Member).where(Member.full_name == "Phạm Thị Thu Hà")).one()
        assert ha.locale is None


async def test_command_in_wrong_chat_kind(driver: Driver) -> None:
    out = await driver.say("Nguyễn Văn An", "/mien", group=True)
    assert "chỉ dùng trong tin nhắn riêng" in out[0]
    out = await driver.say("Nguyễn Văn An", "/link ABC")
    assert "chỉ dùng trong nhóm" in out[0]


async def test_a_crashing_handler_apologises_and_is_not_retried(
        driver: Driver, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from handlers.onboarding import profile

    def boom(*a, **k):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug")

    monkeypatch.setattr(profile, "lineage", boom)
    inc = driver.incoming("Nguyễn Văn An", "/toi", update_id="crash")
    driver.app.handle(inc)
    driver.app.handle(inc)
    texts = _outbox_texts(driver)
    assert len(texts) == 1 and "gặp sự cố" in texts[0]


async def test_code_command_for_secretary(driver: Driver) -> None:
    out = await driver.say("Nguyễn Văn An", "/code Thu Hà")
    assert "/start" in out[0]
    code = out[0].split(": ", 1)[1].split()[0]
    with Session(driver.app.engine) as s:
        link = s.get(LinkCode, code)
        assert link is not None and link.purpose == "member"
        assert link.expires_at - driver.app.clock() == timedelta(hours=72)
    out = await driver.say("Nguyễn Văn An", "/code nhom Văn phòng")
    assert "/link" in out[0]
