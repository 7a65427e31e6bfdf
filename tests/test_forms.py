from sqlmodel import Session, select

from bot.app import App
from models.audit import AuditEntry
from models.form import FormState
from models.member import Member
from tests.helpers import Driver, RecordingMessenger

SECRETARY = "Nguyễn Văn An"


def _member(app: App, name: str) -> Member:
    with Session(app.engine) as s:
        return s.exec(select(Member).where(Member.full_name == name)).one()


async def test_invalid_answer_is_refused_in_vietnamese_and_stores_nothing(
        driver: Driver) -> None:
    await driver.say(SECRETARY, "/mien")
    out = await driver.say(SECRETARY, "99")
    assert "Đồng chí vui lòng chọn" in out[0]
    out = await driver.say(SECRETARY, "3")  # Lê Hoàng Minh
    assert "Lý do miễn sinh hoạt" in out[0]
    out = await driver.say(SECRETARY, "xin chào")
    assert out[0].startswith("⚠️")
    out = await driver.say(SECRETARY, "2")
    out = await driver.say(SECRETARY, "x" * 151)
    assert "dài quá 150 ký tự" in out[0]
    assert not _member(driver.app, "Lê Hoàng Minh").exempted
    with Session(driver.app.engine) as s:
        assert s.exec(select(AuditEntry)).first() is None


async def test_confirm_writes_and_audits(driver: Driver) -> None:
    for answer in ("/mien", "3", "sức khỏe yếu", "NQ 05/2026", "1"):
        out = await driver.say(SECRETARY, answer)
    assert "được miễn sinh hoạt" in out[-1]
    minh = _member(driver.app, "Lê Hoàng Minh")
    assert minh.exempted and minh.exempt_reason == "Sức khỏe yếu — NQ 05/2026"
    with Session(driver.app.engine) as s:
        assert s.exec(select(FormState)).first() is None
        entry = s.exec(select(AuditEntry)).one()
        assert entry.action == "member.exempted" and entry.entity_id == minh.id


async def test_form_resumes_at_same_step_after_restart(
        sample: App, messenger: RecordingMessenger) -> None:
    d1 = Driver(sample, messenger)
    await d1.say(SECRETARY, "/mien")
    await d1.say(SECRETARY, "3")
    # A new process: new App (engine, router, sender) over the same database.
    sample.close()
    fresh = App(sample.settings, clock=sample.clock, messengers=[messenger], migrate_db=False)
    d2 = Driver(fresh, messenger)
    d2._ids = d1._ids  # the platform keeps numbering updates
    out = await d2.say(SECRETARY, "2")  # answers step 2 (reason), not step 1 (member)
    assert "Ghi chú" in out[0] and "(3/3)" in out[0]
    out = await d2.say(SECRETARY, "-")
    assert "Lê Hoàng Minh" in out[0] and "Sức khỏe yếu" in out[0]
    await d2.say(SECRETARY, "xác nhận")
    assert _member(fresh, "Lê Hoàng Minh").exempted


async def test_cancel_back_and_stale_buttons(driver: Driver) -> None:
    await driver.say(SECRETARY, "/mien")
    first_step_buttons = driver.last_buttons()
    await driver.say(SECRETARY, "3")
    out = await driver.say(SECRETARY, "quay lại")
    assert "(1/3)" in out[0]
    await driver.say(SECRETARY, "4")
    # A replayed button of step 1 must not answer step 2.
    out = await driver.press(SECRETARY, first_step_buttons[2][1])
    assert "bước đã qua" in out[0]
    # Forged data in the right shape but for another form id.
    out = await driver.press(SECRETARY, "f:999999:reason:0")
    assert "bước đã qua" in out[0]
    out = await driver.say(SECRETARY, "/huy")
    assert "Đã hủy" in out[0]
    assert not _member(driver.app, "Phạm Thị Thu Hà").exempted


async def test_lifting_an_exemption(driver: Driver) -> None:
    await driver.say(SECRETARY, "/mien")
    out = await driver.say(SECRETARY, "8")  # Bùi Thị Hồng Nhung, exempted
    assert "Thôi miễn" in out[0]
    await driver.say(SECRETARY, "1")
    out = await driver.say(SECRETARY, "1")
    assert "sinh hoạt trở lại" in out[0]
    assert not _member(driver.app, "Bùi Thị Hồng Nhung").exempted


async def test_plain_member_cannot_start_the_form(driver: Driver) -> None:
    out = await driver.say("Phạm Thị Thu Hà", "/mien")
    assert "không có quyền" in out[0]
    with Session(driver.app.engine) as s:
        assert s.exec(select(FormState)).first() is None
