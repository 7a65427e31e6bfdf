"""The restore drill: the sample bloc plus a played month is backed up with `chibot backup`,
restored with `chibot restore` into a fresh database, and every table compared row by
row. SQLite always; PostgreSQL when CHIBOT_TEST_DATABASE_URL is set and pg_dump exists."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, make_url, select
from sqlalchemy.pool import NullPool

from bot.__main__ import main
from bot.demo import run_demo
from models.settings import Settings
from tests.conftest import PG_URL, pg_database_url


def _all_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url, poolclass=NullPool)
    meta = MetaData()
    try:
        with engine.connect() as conn:
            meta.reflect(conn)
            return {name: [tuple(r) for r in conn.execute(
                        select(t).order_by(*(t.primary_key.columns or t.columns)))]
                    for name, t in sorted(meta.tables.items())}
    finally:
        engine.dispose()


@pytest.fixture
async def played(settings: Settings, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The sample bloc and one month played in it, on the test's database; the CLI
    reads the same database from the environment."""
    summary = await run_demo(settings, keep=True, write=lambda _line: None,
                             out_dir=tmp_path / "demo")
    assert summary["status"] == "held"
    monkeypatch.setenv("CHIBOT_DATABASE__URL", settings.database_url)
    monkeypatch.setenv("CHIBOT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CHIBOT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./config.toml of the developer's is read
    return settings


def _drill(source: str, target: str, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backup", "--out", str(out)]) == 0
    assert out.stat().st_size > 0
    assert main(["restore", str(out), "--url", target]) == 0
    assert "Đã khôi phục" in capsys.readouterr().out
    before, after = _all_rows(source), _all_rows(target)
    assert before.keys() == after.keys()
    for table, rows in before.items():
        assert after[table] == rows, table
    assert len(before["member"]) == 40 and before["attendance"] and before["score"]
    # A second restore into the now non-empty target is refused, and changes nothing ...
    assert main(["restore", str(out), "--url", target]) == 1
    assert "--force" in capsys.readouterr().err
    assert _all_rows(target) == after
    # ... unless forced.
    assert main(["restore", str(out), "--url", target, "--force"]) == 0
    assert _all_rows(target) == before


@pytest.mark.skipif(bool(PG_URL), reason="the SQLite drill")
async def test_restore_drill_sqlite(played: Settings, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    target = f"sqlite:///{tmp_path / 'restored' / 'chibot.sqlite3'}"
    _drill(played.database_url, target, tmp_path / "chibot.backup", capsys)


@pytest.mark.skipif(not PG_URL or not shutil.which("pg_dump") or not shutil.which("pg_restore"),
                    reason="needs CHIBOT_TEST_DATABASE_URL and pg_dump/pg_restore")
async def test_restore_drill_postgres(played: Settings, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    target = pg_database_url(f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_restore",
                             fresh=True)
    _drill(played.database_url, target, tmp_path / "chibot.dump", capsys)


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's online backup")
def test_sqlite_backup_is_consistent_while_a_writer_holds_a_transaction(
        settings: Settings, tmp_path: Path) -> None:
    """Online: a write transaction open in another connection (the running bot) neither
    blocks the backup nor leaks its uncommitted row into it."""
    path = make_url(settings.database_url).database
    assert path
    from bot.backup import backup

    writer = sqlite3.connect(path, isolation_level=None, timeout=1)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO auditentry (at, action, entity, detail) "
                       "VALUES ('2026-12-01 00:00:00', 'uncommitted', 'x', '{}')")
        backup(settings.database_url, tmp_path / "online.backup")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    copy = sqlite3.connect(tmp_path / "online.backup")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM auditentry WHERE action = 'uncommitted'"
                            ).fetchone() == (0,)
    finally:
        copy.close()


def test_restore_refuses_the_wrong_kind_and_a_missing_pg_dump(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.backup import BackupError, backup, restore

    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a backup")
    with pytest.raises(BackupError, match="không phải bản sao lưu"):
        restore(junk, f"sqlite:///{tmp_path / 'x.sqlite3'}")
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump anywhere
    with pytest.raises(BackupError, match="pg_dump"):
        backup("postgresql+psycopg://postgres@127.0.0.1:1/none", tmp_path / "x.dump")
