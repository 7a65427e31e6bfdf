"""The year's rules, corrected (issue 12): Điều 8 counts only unexcused absences and
unpaid fee months; the HD 42 bonus run stays inside the calendar year."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from bot.app import App
from models import dieu8, streaks
from tests.yearplay import fee, held, org

QLNS = ("Chi bộ Phòng Quản lý ngân sách", "Đảng bộ Sở Tài chính")
TUAN, HANH = "Châu Minh Tuấn", "Tạ Thị Hạnh"


def _watch(s: Session, upto: str) -> dict[str, tuple[int, int, str]]:
    bloc = org(s, "Đảng bộ Khối các cơ quan tỉnh")
    return {r["name"]: (r["unexcused"], r["unpaid"], r["level"].value)
            for r in dieu8.members_to_watch(s, bloc, upto)}


def test_three_excused_in_a_row_flag_nobody(sample: App) -> None:
    with Session(sample.engine) as s:
        cell = org(s, *QLNS)
        for mo in (3, 4, 5):
            held(s, cell, 2026, mo, {TUAN: "excused"})
        s.commit()
        assert _watch(s, "2026-05") == {}
        assert streaks.long_runs(s, cell, 2026, datetime(2026, 12, 31, tzinfo=UTC)) == []


def test_unexcused_need_not_be_consecutive_and_warn_at_two(sample: App) -> None:
    with Session(sample.engine) as s:
        cell = org(s, *QLNS)
        for mo in range(1, 10):
            held(s, cell, 2026, mo, {TUAN: "unexcused"} if mo in (2, 5, 9) else {})
        s.commit()
        assert _watch(s, "2026-04") == {}
        assert _watch(s, "2026-05") == {TUAN: (2, 0, "warn")}
        assert _watch(s, "2026-09") == {TUAN: (3, 0, "flag")}
        # A new calendar year starts from zero.
        held(s, cell, 2027, 1, {TUAN: "unexcused"})
        s.commit()
        assert _watch(s, "2027-01") == {}


def test_unpaid_months_count_on_their_own_and_mixed_is_attention(sample: App) -> None:
    with Session(sample.engine) as s:
        cell = org(s, *QLNS)
        held(s, cell, 2026, 1, {HANH: "unexcused", TUAN: "unexcused"})
        held(s, cell, 2026, 2, {TUAN: "unexcused"})
        fee(s, cell, HANH, 2026, 1, None)
        fee(s, cell, HANH, 2026, 2, 50_000)
        fee(s, cell, TUAN, 2026, 1, None)
        fee(s, cell, TUAN, 2026, 2, None)
        s.commit()
        # Hạnh: one of each -> cần lưu ý; Tuấn: 2 and 2 -> warned, not flagged.
        assert _watch(s, "2026-02") == {HANH: (1, 1, "attention"), TUAN: (2, 2, "warn")}
        fee(s, cell, TUAN, 2026, 3, None)
        s.commit()
        assert _watch(s, "2026-03")[TUAN] == (2, 3, "flag")
        # A paid month recorded later overwrites the unpaid one.
        fee(s, cell, TUAN, 2026, 3, 50_000)
        s.commit()
        assert _watch(s, "2026-03")[TUAN] == (2, 2, "warn")


@pytest.mark.parametrize(("level", "u", "p"), [
    (None, 0, 0), (None, 1, 0), (None, 0, 1), ("attention", 1, 1), ("warn", 2, 0),
    ("warn", 0, 2), ("warn", 2, 2), ("flag", 3, 0), ("flag", 0, 3), ("flag", 3, 1)])
def test_level_table(level: str | None, u: int, p: int) -> None:
    got = dieu8.level_of(u, p)
    assert (got.value if got else None) == level


def test_bonus_run_is_more_than_three_and_stays_in_the_year(sample: App) -> None:
    with Session(sample.engine) as s:
        cell = org(s, *QLNS)
        # Excused Nov, Dec 2026 and Jan, Feb 2027: four in a row across New Year.
        for y, mo in ((2026, 10), (2026, 11), (2026, 12), (2027, 1), (2027, 2), (2027, 3)):
            held(s, cell, y, mo, {TUAN: "excused"} if (y, mo) != (2026, 10) else {})
        s.commit()
        end = datetime(2027, 12, 31, tzinfo=UTC)
        assert streaks.keeps_bonus(s, cell, 2026, end)
        # 2027: Jan, Feb, Mar = 3 in a row: still not *more* than 3.
        assert streaks.keeps_bonus(s, cell, 2027, end)
        held(s, cell, 2027, 4, {TUAN: "unexcused"})  # any absence extends the run
        s.commit()
        assert not streaks.keeps_bonus(s, cell, 2027, end)
        assert streaks.keeps_bonus(s, cell, 2027, datetime(2027, 3, 31, tzinfo=UTC))
        [row] = streaks.long_runs(s, org(s, "Đảng bộ Khối các cơ quan tỉnh"), 2027, end)
        assert (row["name"], row["run"], row["parent"]) == (TUAN, 4, QLNS[1])
