"""Several `chibot run` processes on one PostgreSQL, in webhook mode, for the benches.

The bench plays Telegram and the load balancer in front of the one webhook address: it
posts each update to one process or the next (round robin, as a balancer does), with as
many requests open as Telegram's ``max_connections`` (40), and redelivers a few updates to
the other process, as Telegram does when a webhook answer is late. A webhook answers 200
only once the update is committed, so updates/s is updates answered per second.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from sqlalchemy import insert, select, text
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST-token"
SECRET = "bench-webhook-secret-0123"
TEXTS = ["/lichhop", "xin chào", "/toi", "/nhiemvu", "/comat"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def emulator(group_per_minute: float = 100000,
             per_second: float = 100000) -> tuple[subprocess.Popen[str], str, str]:
    """The Telegram emulator in its own process: (process, Bot API base, control URL)."""
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "tg_emulator.py"),
                             "--per-second", str(per_second),
                             "--group-per-minute", str(group_per_minute)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            cwd=ROOT)
    _ready, base, stats = proc.stdout.readline().split()  # type: ignore[union-attr]
    return proc, base, stats.rsplit("/", 1)[0]


def fresh_database(url: str, users: int) -> list[int]:
    """Empty the database (its public schema), migrate, load the sample bloc (or a
    generated one) and link ``users`` members to Telegram users 1000, 1001, …"""
    from datetime import UTC, datetime

    from bot.benchseed import seed
    from bot.importer import import_file
    from models.db import make_engine, migrate
    from models.member import Identity, Member

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    migrate(engine)
    if users <= 39:
        import_file(engine, ROOT / "bot" / "data" / "sample_bloc.csv",
                    bloc_name="Đảng bộ Khối", timezone="Asia/Ho_Chi_Minh")
    else:
        seed(engine, bases=-(-users // 80), years=0, log=lambda *_: None)
    with Session(engine) as s:
        members = list(s.execute(select(Member.id).where(Member.active == True)  # noqa: E712
                                 .order_by(Member.id)).scalars().all())[:users]
        s.execute(insert(Identity), [
            {"member_id": m, "platform": "telegram", "platform_user_id": str(1000 + u),
             "private_chat_id": str(1000 + u), "linked_at": datetime.now(UTC)}
            for u, m in enumerate(members)])
        s.commit()
    engine.dispose()
    return members


@dataclass
class Bot:
    """One `chibot run` process in webhook mode."""

    url: str
    base: str
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram"

    def start(self) -> None:
        env = {**os.environ, "CHIBOT_DATABASE__URL": self.url,
               "CHIBOT_DATA_DIR": tempfile.mkdtemp(prefix="chibot-mp-"),
               "CHIBOT_TELEGRAM__TOKEN": TOKEN, "CHIBOT_TELEGRAM__BASE_URL": self.base,
               "CHIBOT_TELEGRAM__MODE": "webhook",
               "CHIBOT_TELEGRAM__WEBHOOK_URL": "https://bot.example.vn/telegram",
               "CHIBOT_TELEGRAM__WEBHOOK_SECRET": SECRET,
               "CHIBOT_TELEGRAM__PORT": str(self.port), "CHIBOT_LOG_LEVEL": "WARNING",
               **self.extra_env}
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    async def ready(self, timeout: float = 60) -> None:
        """Until its webhook answers (403 to a request without the secret)."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    async with http.post(self.webhook, json={}) as r:
                        if r.status == 403:
                            return
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"chibot on port {self.port} did not start")
                await asyncio.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds these processes have used (Linux /proc)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def postgres_pids() -> list[int]:
    """The PostgreSQL server's processes on this machine (shared with other users of it:
    an indication only)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().strip() in ("postgres", "postmaster"):
                    out.append(int(d.name))
            except OSError:
                continue
    return out


def update(update_id: int, uid: int, text_: str) -> dict[str, object]:
    """A private message as Telegram posts it to a webhook."""
    user = {"id": uid, "is_bot": False, "first_name": f"User {uid}", "language_code": "vi"}
    msg: dict[str, object] = {
        "message_id": update_id, "date": int(time.time()), "text": text_, "from": user,
        "chat": {"id": uid, "type": "private", "first_name": user["first_name"]}}
    if text_.startswith("/"):
        msg["entities"] = [{"type": "bot_command", "offset": 0,
                            "length": len(text_.split()[0])}]
    return {"update_id": update_id, "message": msg}


async def deliver(bots: list[Bot], updates: list[dict[str, object]], connections: int = 40,
                  redeliver_every: int = 50) -> tuple[float, dict[int, int]]:
    """Post every update (round robin over ``bots``; every ``redeliver_every``-th also to
    the next bot, as Telegram's retry would); returns (seconds, HTTP status counts)."""
    queue: asyncio.Queue[tuple[int, dict[str, object]]] = asyncio.Queue()
    for i, u in enumerate(updates):
        queue.put_nowait((i, u))
    statuses: dict[int, int] = {}
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

    async def worker(http: aiohttp.ClientSession) -> None:
        while not queue.empty():
            i, u = queue.get_nowait()
            targets = [bots[i % len(bots)]]
            if redeliver_every and i % redeliver_every == 0:
                targets.append(bots[(i + 1) % len(bots)])
            for b in targets:
                async with http.post(b.webhook, json=u, headers=headers) as r:
                    statuses[r.status] = statuses.get(r.status, 0) + 1

    conn = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=conn) as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(connections)))
        return time.perf_counter() - t0, statuses


def handled(url: str, first: int, last: int) -> tuple[int, int, int]:
    """(updates recorded, of them distinct, updates with their first reply queued) for
    update ids first..last."""
    from models.db import make_engine
    from models.outbox import OutboxMessage, ProcessedUpdate

    engine = make_engine(url)
    ids = [str(i) for i in range(first, last + 1)]
    with Session(engine) as s:
        rows = s.execute(select(ProcessedUpdate.update_id).where(
            ProcessedUpdate.platform == "telegram", ProcessedUpdate.update_id.in_(ids))
        ).scalars().all()
        keys = s.execute(select(OutboxMessage.idempotency_key).where(
            OutboxMessage.idempotency_key.like("r:telegram:%:1"))).scalars().all()
    engine.dispose()
    replied = {int(k.split(":")[2]) for k in keys if k.split(":")[2].isdigit()}
    return len(rows), len(set(rows)), sum(1 for i in range(first, last + 1) if i in replied)
