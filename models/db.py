"""Engine creation, migrations (Alembic is the only way the schema changes), and the
insert-once statement the dedupe and outbox records share."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, event, exc, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, create_engine

import models  # noqa: F401  (registers the tables on SQLModel.metadata)

try:
    import fcntl
except ImportError:  # not POSIX: no lock (one process migrates at a time there)
    fcntl = None  # type: ignore[assignment]

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def insert_once(table: Table, keys: list[str], returning: Any, dialect: str) -> Any:
    """INSERT … ON CONFLICT (keys) DO NOTHING RETURNING ``returning``: a row comes back
    only when this insert made it. A Core statement on the table: executed on the
    session's connection it skips the ORM's bulk-insert path, which cost more than the
    insert on the hot path (the dedupe record, the outbox)."""
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return ins.on_conflict_do_nothing(index_elements=keys).returning(returning)


def make_engine(url: str, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    engine = create_engine(url, echo=echo, pool_size=10, max_overflow=10)
    _ping_when_idle(engine)
    return engine


PING_AFTER_IDLE = 2.0  # seconds a pooled PostgreSQL connection may rest unchecked


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's ``pool_pre_ping`` without its round trip on every checkout: a
    connection is pinged only when it rested in the pool for ``PING_AFTER_IDLE`` seconds
    (a server restart, an idle timeout, a dropped network path all happen while it rests).
    Under load connections come back within milliseconds, and a ping per checkout was a
    fifth of the round trips of a webhook update. A connection that dies within those
    seconds fails its first statement as one that dies just after a ping would:
    a disconnect, after which the pool is refreshed (and the update intake retries)."""

    @event.listens_for(engine, "checkin")
    def _rested(_dbapi_conn, record) -> None:  # type: ignore[no-untyped-def]
        record.info["chibot_rested_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        rested = record.info.get("chibot_rested_at")
        if rested is not None and time.monotonic() - rested < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as err:
            # The pool discards this connection and checks out another (a new one).
            raise exc.DisconnectionError(str(err)) from err


def no_parallel_plans(session: Session) -> None:
    """On PostgreSQL, no parallel workers for the rest of ``session``'s transaction: for
    statements the caller already runs side by side (the web view's year lists), where
    PostgreSQL's own workers on top of them put three times the processes on the machine's
    cores (2 cores: the bloc's cold lists p50 123-134 -> 105-119 ms, 20 views, two runs
    each). Elsewhere a lone heavy statement keeps its workers (the bloc's year: p95 100 ms
    with them, 123 ms without)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# pg_advisory_xact_lock key of the schema upgrade: "chibot" in ASCII, any stable number.
MIGRATION_LOCK_KEY = 0x63686962_6F74


@contextmanager
def _sqlite_migration_lock(engine: Engine) -> Iterator[None]:
    """An exclusive lock on ``<database>.migrate-lock`` beside the SQLite file: SQLite's
    own locks do not cover "is the schema there yet?" and "create it" as one step."""
    path = engine.url.database
    if not path or path == ":memory:" or fcntl is None:
        yield
        return
    lock_path = Path(f"{path}.migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file is closed
        yield


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema; several processes may call this at once on an empty database:
    one upgrades, the others wait for it and then find nothing to do."""
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            # Held until this transaction ends, i.e. until the upgrade is committed.
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        return
    with _sqlite_migration_lock(engine), engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
