"""Rehearsal: `chibot console --at …` on a simulated clock, driven through stdin."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.rehearsal import RehearsalError, parse_at, parse_span

MONTH = [  # the README's rehearsal of one month, with the forms' answers
    "/lichhop",
    ":tua 5d",
    ":as Hồ Đức Thắng",
    "/comat",
    ":as Dương Văn Thành",
    ":tua 3d 2h",
    "/diemdanh", "1", "1", "09:35", "4", "* c, 7 k", "Đúng",
    "/chamdiem",
    ":tua 4d",
    ":thoat",
]


def _console(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
             tmp_path: Path, lines: list[str], *args: str) -> str:
    monkeypatch.chdir(tmp_path)  # no config.toml: defaults, and --fresh's own database
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["console", "--fresh", *args, "--as", "Dương Văn Thành"]) == 0
    return capsys.readouterr().out


def test_a_month_rehearsed_through_stdin(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    out = _console(monkeypatch, capsys, tmp_path, MONTH, "--at", "2026-11-25 08:00")
    assert "Diễn tập: đồng hồ mô phỏng đặt lúc 08:00 25/11/2026." in out
    assert "• Sinh hoạt thường kỳ — 07:30 03/12/2026" in out and "[3]" not in out
    # Each cycle step arrives at its simulated time, in the chat of who receives it.
    for stamp in ("── 08:00 28/11/2026 · riêng → Dương Văn Thành ──\nĐề nghị chi ủy họp",
                  "── 08:00 30/11/2026 · nhóm Chi bộ Phòng Quản lý ngân sách ──\n📢 THÔNG BÁO",
                  "── 08:00 02/12/2026 · riêng → Mai Thị Phương ──\n🔔 Nhắc lịch",
                  # 2 h before 07:30 is in the quiet hours: at 06:30, seen on the 07:00 tick.
                  "── 07:00 03/12/2026 · riêng → Tạ Thị Hạnh ──\n🔔 Nhắc lịch",
                  "── 08:00 06/12/2026 · riêng → Nguyễn Văn An ──\nChi bộ Phòng Quản lý ngân "
                  "sách chưa báo cáo điểm"):
        assert stamp in out, stamp
    assert out.index("⏩ Bây giờ là 08:00 30/11/2026.") < out.index("Đã ghi nhận đồng chí sẽ có")
    # Back as the secretary after :as, his messages are still handled (update ids unique):
    # the roll call of a meeting in the simulated past works, then the score is asked.
    assert "Đã ghi điểm danh. Buổi sinh hoạt hợp lệ." in out
    assert "(1/8) Nhóm 1. Thời gian và thời lượng" in out
    assert "125 phút / yêu cầu 90 phút" in out
    assert out.rstrip().endswith("⏩ Bây giờ là 10:00 07/12/2026.\n"
                                 "[Dương Văn Thành · riêng · 10:00 07/12/2026] >")


def test_switching_back_with_as_keeps_messages(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    out = _console(monkeypatch, capsys, tmp_path,
                   ["/toi", ":as Hồ Đức Thắng", "/toi", ":as Dương Văn Thành", "/lichhop",
                    ":tua 1h", ":thoat"])
    assert "Lịch sinh hoạt của Chi bộ Phòng Quản lý ngân sách" in out
    assert "Lệnh :tua chỉ dùng khi diễn tập" in out  # no simulated clock without --at


def test_bad_rehearsal_arguments(monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = _console(monkeypatch, capsys, tmp_path, [":tua ba ngày", ":tua 0h", ":thoat"],
                   "--at", "2026-11-25 08:00")
    assert "Không hiểu “ba ngày”" in out and "lớn hơn 0" in out
    monkeypatch.chdir(tmp_path)
    assert main(["console", "--fresh", "--at", "hôm qua", "--as", "X"]) == 2


def test_span_and_moment_parsing() -> None:
    assert parse_span("3d") == timedelta(days=3)
    assert parse_span("2h") == timedelta(hours=2)
    assert parse_span("1d 12h 30m") == timedelta(days=1, hours=12, minutes=30)
    assert parse_span("3 ngày") == timedelta(days=3)
    assert parse_span("2 giờ") == timedelta(hours=2)
    for bad in ("", "3", "3x", "-2h", "500d"):
        with pytest.raises(RehearsalError):
            parse_span(bad)
    assert parse_at("2026-11-17 08:00", "Asia/Ho_Chi_Minh") == datetime(2026, 11, 17, 1, 0,
                                                                       tzinfo=UTC)
    assert parse_at("17/11/2026 08:00", "Asia/Ho_Chi_Minh") == datetime(2026, 11, 17, 1, 0,
                                                                       tzinfo=UTC)
