"""Update handling: messages/s through the full stack (Telegram adapter -> router -> forms
-> database -> outbox) against a bare python-telegram-bot echo bot on the same emulator,
and the p95 latency from an update's arrival to its reply being queued.

    python bench/bench_updates.py [--users 200] [--per-user 10]

The emulator runs in its own process. chibot's replies are then paced per chat by the
outbox (Telegram: 1 message/s per private chat), so its throughput is measured up to
"reply queued, committed"; the echo bot has no pacing and is measured up to "echo sent".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402
from sqlmodel import Session  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.app import App  # noqa: E402
from bot.config import TelegramSettings, load_settings  # noqa: E402
from bot.importer import import_file  # noqa: E402
from bot.platforms.telegram import TelegramAdapter  # noqa: E402
from models.member import Identity, Member  # noqa: E402
from models.outbox import OutboxMessage  # noqa: E402

TOKEN = "123456:TEST-token"
TEXTS = ["/lichhop", "xin chào", "/toi", "/nhiemvu", "/comat"]


def emulator() -> tuple[subprocess.Popen[str], str, str]:
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "tg_emulator.py"),
                             "--per-second", "100000", "--group-per-minute", "100000"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            cwd=ROOT)
    _ready, base, stats = proc.stdout.readline().split()  # type: ignore[union-attr]
    return proc, base, stats.rsplit("/", 1)[0]


def call(url: str, body: object | None = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def workload(users: int, per_user: int) -> list[dict[str, object]]:
    return [{"uid": 1000 + u, "text": TEXTS[(u + k) % len(TEXTS)]}
            for k in range(per_user) for u in range(users)]


async def run_chibot(users: int, per_user: int,
                     steady_rate: float) -> tuple[float, list[float], int]:
    """A burst of users x per_user updates for throughput, then ``steady_rate`` updates/s
    for five seconds for the latency (a burst would measure its own backlog)."""
    tmp = tempfile.mkdtemp(prefix="chibot-upd-")
    settings = load_settings(None, data_dir=tmp, database={"url": f"sqlite:///{tmp}/u.db"})
    app = App(settings)
    import_file(app.engine, ROOT / "bot" / "data" / "sample_bloc.csv",
                bloc_name="Đảng bộ Khối", timezone="Asia/Ho_Chi_Minh")
    with Session(app.engine) as s:
        members = s.execute(select(Member.id).where(Member.active == True)  # noqa: E712
                            ).scalars().all()
        if users > len(members):
            raise SystemExit(f"--users at most {len(members)} (the sample bloc's members)")
        s.execute(insert(Identity), [
            {"member_id": members[u], "platform": "telegram", "platform_user_id": str(1000 + u),
             "private_chat_id": str(1000 + u), "linked_at": datetime.now(UTC)}
            for u in range(users)])
        s.commit()
    proc, base, control = emulator()
    try:
        adapter = TelegramAdapter(TelegramSettings(token=TOKEN, base_url=base), app.handle,
                                  poll_timeout=1)
        await adapter.start()
        stop = asyncio.Event()
        task = asyncio.create_task(adapter.run(stop))
        work = workload(users, per_user)
        t0 = time.time()
        ids = call(control + "/push", work)
        last = max(ids)  # type: ignore[type-var]
        while adapter.last_update_id < last:
            await asyncio.sleep(0.05)
        elapsed = time.time() - t0
        steady = workload(users, 1)
        first_steady = last + 1
        tick = len(steady) / steady_rate
        for _ in range(int(5 / tick)):
            started = time.time()
            ids = call(control + "/push", steady)
            await asyncio.sleep(max(tick - (time.time() - started), 0))
        last = max(ids)  # type: ignore[type-var]
        while adapter.last_update_id < last:
            await asyncio.sleep(0.05)
        stop.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await adapter.stop()
        pushed = {int(k): v for k, v in call(control + "/pushed").items()}  # type: ignore[union-attr]
        with Session(app.engine) as s:
            rows = s.execute(select(OutboxMessage.idempotency_key, OutboxMessage.created_at)
                             .where(OutboxMessage.idempotency_key.like("r:telegram:%:1"))).all()
        latencies = [created.timestamp() - pushed[int(key.split(":")[2])]
                     for key, created in rows if int(key.split(":")[2]) >= first_steady]
        return elapsed, latencies, len(work)
    finally:
        proc.terminate()
        proc.wait()
        app.close()


async def run_echo(users: int, per_user: int) -> tuple[float, int]:
    proc, base, control = emulator()
    try:
        application = ApplicationBuilder().token(TOKEN).base_url(base).build()

        async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            assert update.effective_message is not None
            await update.effective_message.reply_text(update.effective_message.text or "")

        application.add_handler(MessageHandler(filters.TEXT, echo))
        work = workload(users, per_user)
        async with application:
            await application.start()
            await application.updater.start_polling(poll_interval=0, timeout=1)  # type: ignore[union-attr]
            t0 = time.time()
            call(control + "/push", work)
            while call(control + "/stats")["sent"] < len(work):  # type: ignore[index]
                await asyncio.sleep(0.05)
            elapsed = time.time() - t0
            await application.updater.stop()  # type: ignore[union-attr]
            await application.stop()
        return elapsed, len(work)
    finally:
        proc.terminate()
        proc.wait()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=39)
    ap.add_argument("--per-user", type=int, default=50)
    ap.add_argument("--steady", type=float, default=100, help="updates/s for the latency")
    args = ap.parse_args()
    elapsed, latencies, n = asyncio.run(run_chibot(args.users, args.per_user, args.steady))
    rate = n / elapsed
    p95 = statistics.quantiles(latencies, n=20)[18] * 1000 if len(latencies) >= 20 else 0
    print(f"chibot full stack: {n} updates in {elapsed:.2f}s = {rate:.0f} updates/s")
    print(f"  at a steady {args.steady:.0f} updates/s: update -> reply queued "
          f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95:.0f} ms "
          f"({len(latencies)} updates)")
    e_elapsed, e_n = asyncio.run(run_echo(args.users, args.per_user))
    e_rate = e_n / e_elapsed
    print(f"bare PTB echo bot: {e_n} updates in {e_elapsed:.2f}s = {e_rate:.0f} updates/s")
    print(f"ratio chibot / echo: {rate / e_rate:.2f} (target >= 0.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
