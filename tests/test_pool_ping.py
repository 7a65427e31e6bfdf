"""PostgreSQL connections are pinged at checkout only after resting in the pool
(``models.db._ping_when_idle``): none under load, and a connection that died while it
rested is replaced before anyone uses it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from models import db
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs CHIBOT_TEST_DATABASE_URL")


def test_busy_connections_are_not_pinged_and_a_dead_one_is_replaced(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    engine = db.make_engine(PG_URL or "")
    pings: list[bool] = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(True) or real(c))
    try:
        for _ in range(5):
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        assert len(pings) == 1  # the first checkout of a new connection only
        with engine.connect() as doomed, engine.connect() as other:
            dead = doomed.execute(text("SELECT pg_backend_pid()")).scalar()
            doomed.commit()  # it goes back to the pool idle, as after a transaction
            other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": dead})
            other.commit()
        monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)  # as if both had rested
        with engine.connect() as a, engine.connect() as b:  # both, whichever comes first
            pids = {c.execute(text("SELECT pg_backend_pid()")).scalar() for c in (a, b)}
        assert dead not in pids and len(pids) == 2
    finally:
        engine.dispose()
