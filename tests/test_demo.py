"""The full month of one cell, as `chibot demo` plays it."""

from bot.config import Settings
from bot.demo import run_demo


async def test_demo_plays_a_whole_month(settings: Settings) -> None:
    lines: list[str] = []
    summary = await run_demo(settings, write=lines.append)
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
