"""`chibot demo --year`: a year of one cell at speed, through the bot, ending with the
year's classification summary."""

from pathlib import Path

from bot.demo_year import run_year_demo
from models.settings import Settings


async def test_demo_plays_a_whole_year(settings: Settings, tmp_path: Path) -> None:
    lines: list[str] = []
    result = await run_year_demo(settings, write=lines.append, out_dir=tmp_path / "year")
    transcript = "\n".join(lines)
    months = [ln for ln in lines if ln.startswith("Tháng ")]
    assert len(months) == 12 and all("Điểm chi bộ chấm" in m for m in months)
    assert "Tháng 07/2026" in months[6] and "1 chưa đóng" in months[6]
    assert "cần lưu ý" in transcript and "Đề nghị chi bộ nhắc nhở riêng" in transcript
    assert "xóa tên" not in transcript  # nobody reaches three of one kind
    assert "=== Tổng kết năm: xếp loại ===" in transcript
    assert "Chi bộ Phòng Quản lý ngân sách — Đảng bộ Sở Tài chính: chất lượng sinh hoạt " \
        "Tốt; xếp loại Hoàn thành tốt nhiệm vụ (đã duyệt)" in transcript
    assert "Đảng viên hoàn thành tốt nhiệm vụ trở lên" in result["lines"][-1]  # type: ignore[index]
    # The cell that never met and the exempted or cell-less members are "not rated", counted
    # apart, and the percentages leave them out (6 of the 7 rated members: 85,7%).
    assert "Chi bộ Văn phòng Sở — Đảng bộ Sở Tài chính: Không xếp loại (chưa đủ buổi sinh " \
        "hoạt thường kỳ: đã họp 0/12, cần ít nhất 9)" in transcript
    assert "Không xếp loại: 1 chi bộ, 11 đảng viên (không tính vào các tỷ lệ dưới đây)." \
        in transcript
    assert "• Đảng viên hoàn thành tốt nhiệm vụ trở lên: 85,7% (chỉ tiêu 85%)" in transcript
    # --out: the transcript and every file the bot sent in the year (issue 23).
    assert "transcript.txt" in {p.name for p in (tmp_path / "year").iterdir()}
    assert f"các tệp bot đã gửi trong năm ở {(tmp_path / 'year').resolve()}/" in transcript
    assert "Tổng kết năm" in (tmp_path / "year" / "transcript.txt").read_text(encoding="utf-8")
