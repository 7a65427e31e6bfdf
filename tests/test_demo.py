"""The full month of one cell, as `chibot demo` plays it."""

from pathlib import Path

from docx import Document

from bot.demo import run_demo
from models.settings import Settings


async def test_demo_plays_a_whole_month(settings: Settings, tmp_path: Path) -> None:
    lines: list[str] = []
    summary = await run_demo(settings, write=lines.append, out_dir=tmp_path / "out")
    transcript = "\n".join(lines)
    for stage in ("Đề nghị chi ủy họp", "THÔNG BÁO SINH HOẠT CHI BỘ", "Nhắc lịch",
                  "Đến giờ sinh hoạt chi bộ", "KẾT LUẬN BUỔI SINH HOẠT",
                  "Đã xác nhận điểm", "/tinhhinh", "Chi bộ đã sinh hoạt: 1/2"):
        assert stage in transcript, stage
    assert summary["status"] == "held"
    assert (summary["attended"], summary["due"], summary["unexcused"]) == (5, 7, 1)
    assert summary["total"] == 93 and summary["rating"] == "tot"
    assert summary["confirmed"] == 93
    assert "Tỷ lệ dự họp: 5/7 (71,4%)" in transcript
    # The month's biên bản and nghị quyết are written next to the transcript, and said so.
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["bien-ban-2026-12.docx", "nghi-quyet-2026-12.docx", "transcript.txt"]
    assert f"đã ghi vào {(tmp_path / 'out').resolve()}/" in transcript
    # The secretary's effort is counted and printed (bot/demo.py Effort).
    effort = summary["effort"]
    assert effort.messages > 0 and effort.taps > 0 and effort.content_chars > 0
    # Measured before issue 23's changes: 50 messages, 1197 characters, 4 taps.
    assert effort.messages < 50 and effort.chars < 1197
    # The group saw one RSVP tally instead of a line per answer.
    assert "📋 Đăng ký dự sinh hoạt" in transcript and "sẽ có mặt" not in transcript
    assert "Công sức của bí thư trong tháng" in transcript
    assert "Tổng kết tháng" in (tmp_path / "out" / "transcript.txt").read_text(encoding="utf-8")
    minutes = "\n".join(p.text for p in Document(str(tmp_path / "out" /
                                                     "bien-ban-2026-12.docx")).paragraphs)
    assert "Đồng chí Hồ Đức Thắng:" in minutes and "Tạ Thị Hạnh (vắng không có lý do)" in minutes
