"""`chibot backup` and `chibot restore`: a copy of the whole database, and the way back.

- SQLite: SQLite's online backup API (``sqlite3.Connection.backup``), a consistent copy
  even while `chibot run` writes (WAL: the copy reads one snapshot, writers go on).
- PostgreSQL: ``pg_dump -Fc`` (custom format, compressed) and ``pg_restore`` in one
  transaction; both must be on PATH (Debian/Ubuntu: ``apt-get install postgresql-client``,
  the same major version as the server or newer).

A restore refuses a target that already has tables unless ``force``: a restore replaces
everything, and the usual mistake is pointing it at the live database.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import URL, create_engine, func, inspect, make_url, select, text
from sqlalchemy.pool import NullPool

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """The operation did not happen; the message says why in Vietnamese."""


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("Cơ sở dữ liệu SQLite trong bộ nhớ không sao lưu được.")
    return Path(url.database)


def _pg_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise BackupError(f"Không tìm thấy {name} trên PATH: cài gói postgresql-client "
                          f"(cùng phiên bản chính với máy chủ PostgreSQL hoặc mới hơn).")
    return tool


def _pg_args(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, which goes in the environment instead (the
    command line is visible to every user of the machine)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"mã thoát {done.returncode}"])[-1]
        raise BackupError(f"{Path(cmd[0]).name} thất bại: {last}")


def backup(db_url: str, out: Path) -> int:
    """Write a backup of ``db_url`` to ``out``; returns its size in bytes."""
    url = make_url(db_url)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")  # never a half-written file under the name
    if url.get_backend_name() == "sqlite":
        src_path = _sqlite_path(url)
        if not src_path.is_file():
            raise BackupError(f"Không có tệp cơ sở dữ liệu {src_path}.")
        part.unlink(missing_ok=True)
        src = sqlite3.connect(src_path, timeout=30)
        dst = sqlite3.connect(part)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    else:
        conninfo, env = _pg_args(url)
        _run([_pg_tool("pg_dump"), "-Fc", "--no-owner", "--no-privileges", "-f", str(part),
              "--dbname", conninfo], env)
    part.replace(out)
    return out.stat().st_size


def _kind(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} không phải bản sao lưu của chibot (SQLite hoặc pg_dump -Fc).")


def existing_tables(db_url: str) -> list[str]:
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return sorted(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def restore(backup_file: Path, db_url: str, *, force: bool = False) -> str:
    """Replace the database at ``db_url`` with ``backup_file``; returns the schema
    revision restored. Refuses a target with tables unless ``force``."""
    if not backup_file.is_file():
        raise BackupError(f"Không có tệp {backup_file}.")
    kind = _kind(backup_file)
    url = make_url(db_url)
    target = url.get_backend_name()
    if kind != target:
        raise BackupError(f"Bản sao lưu là {kind}, cơ sở dữ liệu đích là {target}: "
                          "chỉ khôi phục được vào cùng loại.")
    if target == "sqlite":
        path = _sqlite_path(url)
        if path.exists() and path.stat().st_size and not force:
            _refuse_if_tables(db_url)
        src = sqlite3.connect(backup_file)
        try:
            check = src.execute("PRAGMA integrity_check").fetchone()
            if not check or check[0] != "ok":
                raise BackupError(f"Bản sao lưu {backup_file} bị hỏng: {check}.")
            path.parent.mkdir(parents=True, exist_ok=True)
            dst = sqlite3.connect(path, timeout=30)
            try:
                src.backup(dst)  # replaces every page of the target, WAL included
            finally:
                dst.close()
        finally:
            src.close()
    else:
        if not force:
            _refuse_if_tables(db_url)
        tool = _pg_tool("pg_restore")
        engine = create_engine(db_url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        finally:
            engine.dispose()
        conninfo, env = _pg_args(url)
        _run([tool, "--no-owner", "--no-privileges", "--single-transaction",
              "--exit-on-error", "--dbname", conninfo, str(backup_file)], env)
    return _revision(db_url)


def _refuse_if_tables(db_url: str) -> None:
    tables = existing_tables(db_url)
    if tables:
        raise BackupError(f"Cơ sở dữ liệu đích đã có {len(tables)} bảng: khôi phục sẽ xóa "
                          "hết dữ liệu trong đó. Chọn cơ sở dữ liệu trống (--url) hoặc thêm "
                          "--force nếu chắc chắn.")


def _revision(db_url: str) -> str:
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if "alembic_version" not in inspect(conn).get_table_names():
                return "?"
            rows = conn.execute(select(text("version_num")).select_from(
                text("alembic_version"))).scalars().all()
            n = conn.execute(select(func.count()).select_from(text("member"))).scalar()
    finally:
        engine.dispose()
    return f"{', '.join(rows)} ({n} đảng viên)"
