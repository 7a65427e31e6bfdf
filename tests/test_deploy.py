"""What a deployer meets: two processes migrating an empty database at once, `chibot run`
started before its database answers, and GET /healthz."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web import Application
from sqlalchemy import create_engine, inspect, make_url, text
from sqlmodel import Session, SQLModel, select

from bot.app import App
from bot.health import HealthProbe, add_health_routes, probe_engine
from bot.web.http import start_http
from models.base import utcnow
from models.messages import Outgoing
from models.outbox import OutboxMessage
from models.outbox_queue import enqueue
from models.settings import Settings
from tests.conftest import BASE_PG_URL, pg_database_url
from tests.test_telegram import until
from tests.tg_emulator import TelegramEmulator

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


# --- GET /healthz -------------------------------------------------------------------------

def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _get_health(probe: HealthProbe) -> tuple[int, dict]:
    web_app = Application()
    add_health_routes(web_app, probe)
    async with TestClient(TestServer(web_app)) as client:
        resp = await client.get("/healthz")
        return resp.status, await resp.json()


async def test_healthz_reports_database_last_update_and_outbox(sample: App) -> None:
    url = sample.settings.database_url
    last = None
    probe = HealthProbe(probe_engine(url), lambda: last)
    try:
        status, body = await _get_health(probe)
        assert status == 200
        assert body == {"status": "ok", "database": "ok", "last_update_at": None,
                        "outbox_pending": 0, "outbox_oldest_pending_s": None}
        with Session(sample.engine) as s:
            for i in range(3):
                enqueue(s, Outgoing(platform="telegram", chat_id="1", text=f"x{i}",
                                    key=f"h:{i}"), now=utcnow())
            s.commit()
        last = utcnow().replace(microsecond=0)
        status, body = await _get_health(probe)
        assert status == 200 and body["status"] == "ok"
        assert body["outbox_pending"] == 3
        assert 0 <= body["outbox_oldest_pending_s"] < 60
        assert body["last_update_at"] == last.isoformat().replace("+00:00", "Z")
        with Session(sample.engine) as s:  # a message stuck for an hour: degraded, still 200
            row = s.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == "h:0")).one()
            row.created_at = utcnow() - timedelta(hours=1)
            s.commit()
        status, body = await _get_health(probe)
        assert status == 200 and body["status"] == "degraded" and body["database"] == "ok"
        assert body["outbox_oldest_pending_s"] >= 3600
    finally:
        probe.engine.dispose()


@pytest.mark.parametrize("where", ["closed port", "missing directory"])
async def test_healthz_is_503_when_the_database_does_not_answer(where: str,
                                                                tmp_path: Path) -> None:
    url = (f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/chibot"
           if where == "closed port" else f"sqlite:///{tmp_path / 'nope' / 'db.sqlite3'}")
    probe = HealthProbe(probe_engine(url), lambda: None)
    try:
        status, body = await _get_health(probe)
    finally:
        probe.engine.dispose()
    assert status == 503
    assert body["status"] == "degraded" and body["database"] == "down"
    assert body["outbox_pending"] is None


async def test_healthz_answers_in_time_while_the_database_hangs() -> None:
    """A server that accepts the connection and never answers: /healthz gives 503 after
    the probe's timeout, and the event loop keeps running meanwhile."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        probe = HealthProbe(probe_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/x",
                                         timeout=5), lambda: None, timeout=0.5)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        task = asyncio.create_task(ticker())
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            status, body = await _get_health(probe)
            again = await probe.report()  # one probe in flight: no second thread piles up
        finally:
            task.cancel()
            probe.engine.dispose()
        assert status == 503 and body["database"] == "down" and again[0] == 503
        assert loop.time() - started < 3
        assert ticks >= 5  # the loop was not blocked while the probe waited


# --- `chibot run` before its database answers ----------------------------------------------

class RunProcess:
    """`chibot run` as a subprocess whose stderr is read line by line."""

    def __init__(self, db_url: str, emu: TelegramEmulator, base: str, web_port: int) -> None:
        self.env = {**os.environ, "CHIBOT_DATABASE__URL": db_url,
                    "CHIBOT_TELEGRAM__TOKEN": emu.token, "CHIBOT_TELEGRAM__BASE_URL": base,
                    "CHIBOT_WEB__PORT": str(web_port), "CHIBOT_LOG_LEVEL": "WARNING"}
        self.web_port = web_port
        self.lines: list[str] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=self.env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        async for raw in self.proc.stderr:
            self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def count(self, needle: str) -> int:
        return sum(needle in line for line in self.lines)

    async def health(self) -> tuple[int, dict]:
        async with ClientSession() as http, \
                http.get(f"http://127.0.0.1:{self.web_port}/healthz") as resp:
            return resp.status, await resp.json()

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout=30)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._reader is not None:
            await self._reader
        assert self.proc.returncode is not None
        return self.proc.returncode


WAITING = "Chưa kết nối được cơ sở dữ liệu"


async def _health_answers(run: RunProcess) -> bool:
    try:
        await run.health()
    except OSError:
        return False
    return True


async def test_run_waits_for_an_unreachable_database_and_stops_cleanly() -> None:
    emu = TelegramEmulator(enforce_limits=False)
    base = await emu.start()
    run = RunProcess(f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/chibot",
                     emu, base, _closed_port())
    try:
        await run.start()
        await until(lambda: run.count(WAITING) >= 2, timeout=60)  # after 1 s, then 2 s
        assert run.proc is not None and run.proc.returncode is None  # still waiting
        status, body = await run.health()  # and monitoring sees why
        assert status == 503 and body["database"] == "down"
    finally:
        rc = await run.stop()
        await emu.stop()
    assert rc == 0, run.lines
    assert not any("Traceback" in line for line in run.lines), run.lines
    waits = [line for line in run.lines if WAITING in line]
    assert len(waits) == len(run.lines) - sum("healthz" in line for line in run.lines)
    assert "lần 1" in waits[0] and "thử lại sau 1 giây" in waits[0]
    assert "lần 2" in waits[1] and "thử lại sau 2 giây" in waits[1]


@pytest.mark.skipif(not BASE_PG_URL, reason="needs CHIBOT_TEST_DATABASE_URL (PostgreSQL)")
async def test_run_starts_normally_once_the_database_answers() -> None:
    url = pg_database_url(f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_late", fresh=True)
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")

    def allow(yes: bool) -> None:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(yes).lower()}'))

    emu = TelegramEmulator(enforce_limits=False)
    base = await emu.start()
    run = RunProcess(url, emu, base, _closed_port())
    allow(False)  # the server is up, the database refuses: as after a reboot
    try:
        await run.start()
        await until(lambda: run.count(WAITING) >= 1, timeout=60)
        allow(True)
        await until(lambda: run.count("Đã kết nối được cơ sở dữ liệu") == 1, timeout=60)
        emu.user_message(emu.user(901, "Khách"), "/start")  # the bot now serves
        await until(lambda: bool(emu.to(901)), timeout=60)
        status, body = await run.health()
        assert status == 200 and body["database"] == "ok"
        assert body["last_update_at"] is not None
    finally:
        allow(True)
        rc = await run.stop()
        await emu.stop()
        admin.dispose()
    assert rc == 0, run.lines
    assert not any("Traceback" in line for line in run.lines), run.lines
    _one_schema(url)  # it migrated the empty database once it could


async def test_a_taken_web_port_is_one_error_line_and_not_the_end(
        settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = settings.model_copy(update={"web": settings.web.model_copy(
            update={"port": taken.getsockname()[1]})})
        probe = HealthProbe(probe_engine(settings.database_url), lambda: None)
        try:
            health = [lambda web_app: add_health_routes(web_app, probe)]
            assert await start_http(busy, health) is None
            started = await start_http(settings, health)  # port 0: any free port
            assert started is not None
            free, port = started
            async with ClientSession() as http, \
                    http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200
            await free.cleanup()
        finally:
            probe.engine.dispose()
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "/healthz and the web view are off" in errors[0].getMessage()
    assert errors[0].exc_info is None  # no traceback
