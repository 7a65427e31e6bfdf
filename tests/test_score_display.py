"""Transparent scoring: each group's prompt shows its computed criteria with points and
the evidence, the running total counts only what was shown, criteria that do not apply
are hidden, and a band explanation names only the criteria that fall short."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from handlers.scoring.autoscore import documents_ahead
from handlers.scoring.display import band_explanation
from models.meeting import Meeting
from models.rubric import load_rubric
from tests.helpers import SEC, Driver, FakeClock
from tests.test_scoring import _held

RUBRICS = Path(__file__).resolve().parent.parent / "locales" / "rubrics"


async def test_prompts_show_computed_criteria_with_evidence(driver: Driver,
                                                           clock: FakeClock) -> None:
    mid = await _held(driver, clock, edits="1-6 c, 7 k", end="08:50")  # 80 minutes
    out = await driver.press(SEC, f"sc:{mid}")
    first = out[-1]
    # Groups 1 and 2 are computed only: shown before group 3's questions, with figures.
    assert first.index("Nhóm 1.") < first.index("Nhóm 2.") < first.index("Nhóm 3.")
    assert "4/5 — 80 phút / yêu cầu 90" in first
    assert "2/5 — có mặt 6/7 (85,7%), vắng không lý do 1; có vắng không lý do nên tối đa 1" \
        in first
    assert "1/1 — bot đã gửi thông báo trước 72 giờ" in first
    # Shown so far: 4 + 2 + 1 (notice) + 0 (documents); group 4's speakers not yet.
    assert first.endswith("Tổng điểm đến lúc này: 7.")
    out = await driver.say(SEC, "3 2 2")
    second = out[0]
    assert "Nhóm 4." in second and "Nhóm 3." not in second
    assert "Nội dung sinh hoạt chuyên đề" not in second  # no thematic part this month
    assert "0/0" not in second
    assert second.endswith("Tổng điểm đến lúc này: 19.")  # 7 + 3 + 2 + 2 + 5 (speakers)


def test_documents_note_gives_the_real_lead_time() -> None:
    rubric = load_rubric(RUBRICS, "hd42-2025")
    c = rubric.criterion("prep_documents")
    start = datetime(2026, 12, 3, 0, 30, tzinfo=UTC)
    m = Meeting(cell_id=1, kind="regular", seq=1, period="2026-12", scheduled_at=start,
                timezone="Asia/Ho_Chi_Minh", docs_posted_at=start - timedelta(hours=72))
    got = documents_ahead(None, m, c)  # type: ignore[arg-type]
    assert (got.points, got.note) == (2, "đăng trước 72 giờ / yêu cầu 24")
    m.docs_posted_at = start - timedelta(hours=20)
    got = documents_ahead(None, m, c)  # type: ignore[arg-type]
    assert (got.points, got.note) == (0, "đăng trước 20 giờ, chưa đủ 24 giờ")


def test_band_explanation_names_only_criteria_short_of_full() -> None:
    bt = load_rubric(RUBRICS, "binhthuan-2025")
    pts = {c.id: bt.effective_max(c, False) for c in bt.criteria()}
    pts["attendance"] -= 1  # 99 points but attendance is not full: Khá
    total, band = bt.rate(pts, False)
    assert band == "kha"
    why = band_explanation(bt, total, band, pts, False)
    assert why == ("(Không xếp loại Tốt vì các tiêu chí sau chưa đạt tối đa: "
                   f"{bt.criterion('attendance').title}.)")
    assert band_explanation(bt, *bt.rate({**pts, "attendance": pts["attendance"] + 1},
                                         False), {**pts, "attendance": pts["attendance"] + 1},
                            False) is None
