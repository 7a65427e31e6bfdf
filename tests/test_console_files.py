"""Console for trainers: the files the bot sends are saved in a folder and their path
printed; `chibot demo --year` honours --out and --keep."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.platforms.console import save_file
from tests.helpers import SEC


def _console(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, lines: list[str],
             *args: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["console", "--fresh", "--as", SEC, *args]) == 0


def test_console_saves_the_files_the_bot_sends(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    out_dir = tmp_path / "tep"
    _console(monkeypatch, tmp_path, ["/sodangphi 2026", ":thoat"], "--out", str(out_dir))
    printed = capsys.readouterr().out
    assert f"Tệp bot gửi (biên bản, nghị quyết, Excel…) được lưu vào {out_dir.resolve()}/" \
        in printed
    saved = list(out_dir.iterdir())
    assert len(saved) == 1 and saved[0].suffix == ".xlsx" and saved[0].stat().st_size > 0
    assert f"→ {saved[0].resolve()}]" in printed
    # Without --out: under the configured data dir (not the --fresh throw-away one).
    _console(monkeypatch, tmp_path, ["/sodangphi 2026", ":thoat"])
    assert [p.suffix for p in (tmp_path / "data" / "console-files").iterdir()] == [".xlsx"]


def test_saved_names_never_escape_nor_overwrite(tmp_path: Path) -> None:
    a = save_file(tmp_path, "../../bien-ban.docx", b"one")
    assert a == (tmp_path / "bien-ban.docx").resolve()
    assert save_file(tmp_path, "bien-ban.docx", b"one") == a  # the same file, sent again
    assert save_file(tmp_path, "bien-ban.docx", b"two").name == "bien-ban-2.docx"


def test_demo_year_passes_out_and_keep(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    async def fake(settings: object, **kw: object) -> dict[str, object]:
        seen.update(kw)
        return {"total": 1}

    monkeypatch.setattr("bot.demo_year.run_year_demo", fake)
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--year", "--keep", "--out", "nam"]) == 0
    assert seen == {"keep": True, "out_dir": Path("nam")}
