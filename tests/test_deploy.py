"""What a deployer meets: two processes migrating an empty database at once, `chibot run`
started before its database answers, and GET /healthz."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from tests.conftest import BASE_PG_URL, pg_database_url

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")

# Each child says "ready" once imported and connected, then waits for "go" on stdin: the
# two upgrades start together instead of one finishing while the other still imports.
MIGRATE_CHILD = """
import sys
from models.db import make_engine, migrate
engine = make_engine(sys.argv[1])
engine.connect().close()
print("ready", flush=True)
sys.stdin.readline()
migrate(engine)
print("done", flush=True)
"""


def _migrate_together(url: str) -> list[subprocess.CompletedProcess[str] | tuple[int, str]]:
    procs = [subprocess.Popen([sys.executable, "-c", MIGRATE_CHILD, url], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = []
    for p in procs:
        _out, err = p.communicate(timeout=180)
        results.append((p.returncode, err))
    return results


def _one_schema(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
            tables = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert len(versions) == 1
    assert {t.name for t in SQLModel.metadata.sorted_tables} <= tables


def test_two_processes_migrate_an_empty_sqlite_database_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    for rc, err in _migrate_together(url):
        assert rc == 0, err
    _one_schema(url)


@pytest.mark.skipif(not BASE_PG_URL, reason="needs CHIBOT_TEST_DATABASE_URL (PostgreSQL)")
def test_two_processes_migrate_an_empty_postgres_database_at_once() -> None:
    url = pg_database_url(f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_migrate",
                          fresh=True)
    for rc, err in _migrate_together(url):
        assert rc == 0, err
    _one_schema(url)
