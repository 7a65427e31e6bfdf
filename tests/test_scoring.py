"""The scoring form: auto criteria, every validation, bands, corrections, confirmation."""

import re
from datetime import timedelta

from sqlmodel import Session, select

from models.audit import AuditEntry
from models.meeting import Meeting, Task
from models.score import Score, ScoreItem
from tests.helpers import SEC, Driver, FakeClock
from tests.test_attendance import _roll_call, _setup
from tests.test_cycle import DEC_MEETING

FOLLOWER = "Nguyễn Văn An"
ANSWERS = ["3 2 2", "5 14 2 1 1 1", "đủ", "1 2 1 1", "27", "2 2",
           "Chi bộ thống nhất đẩy nhanh giải ngân.", "3 | Báo cáo giải ngân | 20/12", "Xong"]


async def _held(driver: Driver, clock: FakeClock, edits: str = "* c",
                end: str = "09:30") -> int:
    _cid, mid = await _setup(driver, clock)
    clock.set(DEC_MEETING + timedelta(hours=2))
    await _roll_call(driver, mid, edits, end=end, speakers="4")
    return mid


async def _score(driver: Driver, mid: int, answers: list[str] = ANSWERS) -> list[str]:
    out = await driver.press(SEC, f"sc:{mid}")
    for a in answers:
        out = await driver.say(SEC, a)
    return out


def _scores(driver: Driver, mid: int) -> list[Score]:
    with Session(driver.app.engine) as s:
        return list(s.exec(select(Score).where(Score.meeting_id == mid).order_by(Score.id)))


async def test_auto_criteria_are_shown_not_asked(driver: Driver, clock: FakeClock) -> None:
    mid = await _held(driver, clock, edits="1-6 c, 7 k", end="08:50")  # 80 min: 10 short
    out = await driver.press(SEC, f"sc:{mid}")
    prompt = out[-1]
    assert "🤖 Thông báo thời gian" in prompt and "1/1" in prompt
    out = await driver.say(SEC, "3 2 2")
    assert "🤖 Tỷ lệ đảng viên phát biểu: 5/5 — 4/6 người phát biểu" in out[0]  # > 50%
    await _answer_rest(driver)
    score = _scores(driver, mid)[0]
    with Session(driver.app.engine) as s:
        items = {i.criterion_id: (i.points, i.auto) for i in s.exec(
            select(ScoreItem).where(ScoreItem.score_id == score.id))}
    assert items["duration"] == (4, True)  # ≤ 15 min short
    # 6/7 = 85.7% -> 3, capped at 1 by an unexcused absence, +1 (no long absence run)
    assert items["attendance"] == (2, True)
    assert items["conduct_speakers"] == (5, True)  # 4/6 > 50%
    assert items["prep_documents"] == (0, True)  # the agenda carried no documents
    assert items["conduct_thematic"] == (0, True)
    assert items["prep_content"] == (3, False)


async def _answer_rest(driver: Driver) -> list[str]:
    out: list[str] = []
    for a in [*ANSWERS[1:], "1"]:
        out = await driver.say(SEC, a)
    return out


async def test_every_scoring_validation(driver: Driver, clock: FakeClock) -> None:
    mid = await _held(driver, clock)
    await driver.press(SEC, f"sc:{mid}")
    checks = [
        ("3 2", "Đồng chí gửi 2 số: 3 và 2. Nhóm này cần 3 số"),
        ("3 2 2 1", "Đồng chí gửi 4 số: 3, 2, 2 và 1. Nhóm này cần 3 số"),
        ("4 2 2", "Mục 1) Nội dung đúng, trọng tâm: Giá trị phải từ 0 đến 3"),
        ("3 -1 2", "từ 0 đến 2"),
        ("3 hay 2", "không phải là một số"),
        ("3 2 nan", "không phải là một số"),
        ("", None),
    ]
    for text, reason in checks:
        if not text:
            continue
        out = await driver.say(SEC, text)
        assert out[0].startswith("⚠️") and reason in out[0], (text, out[0])
    out = await driver.say(SEC, "2,5 2 2")  # decimal comma accepted
    assert "Nhóm 4" in out[0]
    for a in ANSWERS[1:6]:
        await driver.say(SEC, a)
    out = await driver.say(SEC, "x" * 2001)
    assert "dài quá 2000" in out[0]
    await driver.say(SEC, ANSWERS[6])
    for bad, reason in (("3 | việc", None), ("99 | việc | 20/12", "Không xác định"),
                        ("Nguyễn | việc", "Không xác định"),  # several members match? no: none
                        ("3 | việc | 31/02", "không có trên lịch"),
                        ("3 việc", "Cần dạng")):
        out = await driver.say(SEC, bad)
        if reason:
            assert reason in out[0], (bad, out[0])
    assert not _scores(driver, mid)  # nothing written before confirmation


async def test_full_scoring_posts_conclusion_and_tasks(driver: Driver, clock: FakeClock) -> None:
    mid = await _held(driver, clock)
    out = await _score(driver, mid, [*ANSWERS, "1"])
    assert "Đã ghi điểm" in out[-1]
    score = _scores(driver, mid)[0]
    assert score.rubric_id == "hd42-2025" and score.rubric_version == "2025.11"
    with Session(driver.app.engine) as s:
        tasks = list(s.exec(select(Task).where(Task.meeting_id == mid)))
        assert [(t.description, t.due_date.isoformat()) for t in tasks] == [
            ("Báo cáo giải ngân", "2026-12-20")]
        assert s.get(Meeting, mid).conclusion == "Chi bộ thống nhất đẩy nhanh giải ngân."
    group = driver.messenger.texts("group-" + str(_cell(driver, mid)))
    assert "KẾT LUẬN" in group[-1] and "Báo cáo giải ngân — Hồ Đức Thắng" in group[-1]


def _cell(driver: Driver, mid: int) -> int:
    with Session(driver.app.engine) as s:
        return s.get(Meeting, mid).cell_id


async def test_correction_within_window_keeps_history(driver: Driver, clock: FakeClock) -> None:
    mid = await _held(driver, clock)
    await _score(driver, mid, [*ANSWERS, "1"])
    first = _scores(driver, mid)[0]
    clock.advance(days=6)
    out = await driver.say(SEC, f"/chamdiem #{mid}")
    for a in ["7", "20", "Sửa theo ý kiến cấp ủy"]:  # only group 7 changes
        out = await driver.say(SEC, a)
    assert "Lý do sửa: Sửa theo ý kiến cấp ủy" in out[0]
    await driver.say(SEC, "1")
    scores = _scores(driver, mid)
    assert [(s.revision, s.is_current) for s in scores] == [(1, False), (2, True)]
    assert scores[1].total == first.total - 7
    with Session(driver.app.engine) as s:
        actions = [a.action for a in s.exec(select(AuditEntry).where(
            AuditEntry.entity == "meeting", AuditEntry.entity_id == mid))]
    assert "score.corrected" in actions


async def test_correction_after_window_needs_an_officer(driver: Driver, clock: FakeClock) -> None:
    mid = await _held(driver, clock)
    await _score(driver, mid, [*ANSWERS, "1"])
    clock.advance(days=8)
    out = await driver.say(SEC, f"/chamdiem #{mid}")
    assert "Đã quá 7 ngày" in out[0]
    out = await driver.say("Lý Thị Kim Oanh", f"/mochamdiem #{mid}")  # a deputy cannot reopen
    assert "không có quyền" in out[0]
    driver.member(FOLLOWER)
    out = await driver.say(FOLLOWER, f"/mochamdiem #{mid}")  # officer of the base organisation
    assert "Đã mở lại" in out[-1]
    assert any("/chamdiem" in t for t in driver.messenger.texts(f"dm-{_member_id(driver, SEC)}"))
    out = await driver.say(SEC, f"/chamdiem #{mid}")
    assert "Sửa điểm" in out[-1] and "3. Công tác chuẩn bị" in out[-1]


async def test_follower_confirms_or_adjusts_and_both_scores_are_kept(
        driver: Driver, clock: FakeClock) -> None:
    driver.member(FOLLOWER)
    mid = await _held(driver, clock)
    await _score(driver, mid, [*ANSWERS, "1"])
    assert any("Đồng chí xác nhận hoặc điều chỉnh" in t
               for t in driver.messenger.texts(f"dm-{_member_id(driver, FOLLOWER)}"))
    out = await driver.press("Hồ Đức Thắng", f"cf:{mid}")  # not the follower
    assert "không có quyền" in out[0]
    out = await driver.press(FOLLOWER, f"cf:{mid}")
    assert "Đã xác nhận" in out[0]
    out = await driver.press(FOLLOWER, f"ca:{mid}")
    assert "Điểm từng nhóm" in out[0]
    maxima = re.findall(r": [\d,.]+/([\d,.]+)$", out[0], re.M)
    assert len(maxima) == 8
    out = await driver.say(FOLLOWER, "5 5 10 30 10 5 27")
    assert "Cần đúng 8 số" in out[0]
    # Typed as the prompt shows them, "got/max": "5/5" is one number, not two.
    given = ["5", "2", "10", "29", "10", "5", "20", "5"]
    wrong = " ".join(f"{v}/{m}" for v, m in zip(given, maxima, strict=True)).replace(
        f"29/{maxima[3]}", "29/31")
    out = await driver.say(FOLLOWER, wrong)
    assert "Mục 4)" in out[0] and f"tính trên {maxima[3]} điểm, không phải 31" in out[0]
    out = await driver.say(FOLLOWER, " ".join(
        f"{v}/{m}" if i % 2 else v for i, (v, m) in enumerate(zip(given, maxima, strict=True))))
    out = await driver.say(FOLLOWER, "Nhiệm vụ tháng trước chưa có minh chứng")
    assert "Điểm xác nhận: 86" in out[0] and "Khá" in out[0]
    await driver.say(FOLLOWER, "1")
    kinds = [(s.kind, s.revision, s.is_current, s.total) for s in _scores(driver, mid)]
    cell_total = kinds[0][3]
    assert kinds == [("cell", 1, True, cell_total), ("confirmed", 1, False, cell_total),
                     ("confirmed", 2, True, 86)]


def _member_id(driver: Driver, name: str) -> int:
    return driver.member(name).id or 0


async def test_scoring_denied_to_members_and_other_cells(driver: Driver,
                                                        clock: FakeClock) -> None:
    mid = await _held(driver, clock)
    out = await driver.press("Hồ Đức Thắng", f"sc:{mid}")
    assert "không có quyền" in out[0]
    out = await driver.press("Nguyễn Văn An", f"sc:{mid}")  # secretary of another cell
    assert "không có quyền" in out[0]
    assert not _scores(driver, mid)


async def test_tasks_done_feed_next_months_auto_score(driver: Driver, clock: FakeClock) -> None:
    mid = await _held(driver, clock)
    await _score(driver, mid, [*ANSWERS[:7], "3 | Việc một", "4 | Việc hai", "Xong", "1"])
    out = await driver.say(SEC, "/nhiemvu")
    assert "Việc một" in out[0] and "Việc hai" in out[0]
    with Session(driver.app.engine) as s:
        task_id = s.exec(select(Task.id).where(Task.description == "Việc một")).one()
    # Not her task (Thắng's): a member closes only her own (tests/test_member_tasks.py).
    out = await driver.press("Mai Thị Phương", f"nv:{task_id}")
    assert "không có quyền" in out[0]
    out = await driver.press(SEC, f"nv:{task_id}")
    assert "Đã ghi hoàn thành" in out[0]
    # January's meeting reviews December's tasks: 1 of 2 done = 50% -> 15 points.
    with Session(driver.app.engine) as s:
        jan = s.exec(select(Meeting).where(Meeting.cell_id == _cell(driver, mid),
                                           Meeting.period == "2027-01")).one()
    clock.set(jan.scheduled_at + timedelta(hours=2))
    await _roll_call(driver, jan.id, "* c", speakers="4")
    out = await driver.press(SEC, f"sc:{jan.id}")
    for a in ["3 2 2", "5 14 2 1 1 1", "đủ", "1 2 1 1", "2 2"]:
        out = await driver.say(SEC, a)
    assert "hoàn thành 1/2 nhiệm vụ" in out[0]
    out = await driver.say(SEC, "100")
    assert "Cần dạng" in out[0] or "lý do" in out[0]
    out = await driver.say(SEC, "100 việc hai chuyển sang quý sau theo chỉ đạo")
    assert "Kết luận" in out[0]
