"""Fixtures: a fresh migrated database per test (SQLite; PostgreSQL when
CHIBOT_TEST_DATABASE_URL is set), the sample bloc, an App with a recording messenger.

Under pytest-xdist (``-n 2``) each worker has a PostgreSQL database of its own, named
after the configured one and the worker (``<db>_gw0``), created on first use."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlmodel import SQLModel

from bot.app import App
from bot.importer import import_file
from models.db import make_engine, migrate
from models.settings import Settings, load_settings
from tests.helpers import Driver, FakeClock, RecordingMessenger

BASE_PG_URL = os.environ.get("CHIBOT_TEST_DATABASE_URL", "")
# `chibot run` started by a test must not take the fixed port 8080 (tests run in parallel):
# port 0 is any free port. Subprocesses inherit it.
os.environ.setdefault("CHIBOT_WEB__PORT", "0")


def pg_database_url(suffix: str, *, fresh: bool) -> str:
    """URL of the PostgreSQL database ``<configured db>_<suffix>`` on the configured
    server, created when missing (``fresh``: dropped and created empty)."""
    url = make_url(BASE_PG_URL)
    name = f"{url.database}_{suffix}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if fresh:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": name}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            else:  # a run killed in mid-outage (test_outage) leaves it refusing connections
                conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
PG_URL = pg_database_url(_WORKER, fresh=False) if BASE_PG_URL and _WORKER else BASE_PG_URL
SAMPLE = Path(__file__).resolve().parent.parent / "bot" / "data" / "sample_bloc.csv"


def _reset_pg(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated once per session; tests copy (SQLite) or truncate (PG) it."""
    if PG_URL:
        engine = make_engine(PG_URL)
        _reset_pg(engine)
        migrate(engine)
        engine.dispose()
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return str(path)


@pytest.fixture
def db_url(_template: str, tmp_path: Path) -> Iterator[str]:
    if PG_URL:
        engine = make_engine(PG_URL)
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        yield PG_URL
        return
    path = tmp_path / "chibot.sqlite3"
    shutil.copy(_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return load_settings(None, data_dir=str(tmp_path), database={"url": db_url},
                         web={"port": 0})  # the web view, when served, on an ephemeral port


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def messenger() -> RecordingMessenger:
    return RecordingMessenger()


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings.database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def app(settings: Settings, clock: FakeClock, messenger: RecordingMessenger,
        engine: Engine) -> App:
    return App(settings, clock=clock, messengers=[messenger], migrate_db=False, engine=engine)


@pytest.fixture
def sample(app: App) -> App:
    report = import_file(app.engine, SAMPLE, bloc_name="Đảng bộ Khối các cơ quan tỉnh",
                         timezone="Asia/Ho_Chi_Minh")
    assert report.ok, report.errors
    return app


@pytest.fixture
def driver(sample: App, messenger: RecordingMessenger) -> Driver:
    return Driver(sample, messenger)
