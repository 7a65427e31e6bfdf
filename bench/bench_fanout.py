"""Fan-out benchmark: one month's cycle for a bloc through the outbox to the Telegram
emulator, whose limits are scaled up 10× (300 msg/s overall, 200/min per group).

    python bench/bench_fanout.py [--bases 100] [--cells-per-base 5] [--members-per-cell 16]

Prints messages, elapsed time, achieved rate as a fraction of the allowed rate (target
>= 0.9), the number of 429 answers (target 0) and the bot's peak memory (target < 200 MB;
the emulator runs in its own process and is not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bench.looplag import LoopLag  # noqa: E402
from bot.benchseed import seed  # noqa: E402
from bot.platforms.telegram import TelegramAdapter  # noqa: E402
from bot.runner import freeze_heap  # noqa: E402
from bot.sender import OutboxSender  # noqa: E402
from handlers.meetings.cycle import materialise, sweep  # noqa: E402
from models.db import make_engine, migrate  # noqa: E402
from models.member import Identity, Member  # noqa: E402
from models.messages import Capabilities  # noqa: E402
from models.org import ChatBinding, Organisation  # noqa: E402
from models.outbox import OutboxMessage  # noqa: E402
from models.settings import TelegramSettings, load_settings  # noqa: E402

SCALE = 10
ALLOWED_PER_SECOND = 30 * SCALE
GROUP_PER_MINUTE = 20 * SCALE
MEETING = datetime(2026, 12, 3, 0, 30, tzinfo=UTC)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(url: str, args: argparse.Namespace) -> int:
    """Seed the bloc, link everyone on Telegram, and sweep a month into the outbox."""
    engine = make_engine(url)
    migrate(engine)
    seed(engine, bases=args.bases, cells_per_base=args.cells_per_base,
         members_per_cell=args.members_per_cell, years=0, log=lambda *_: None)
    with Session(engine) as s:
        members = s.execute(select(Member.id)).scalars().all()
        s.execute(insert(Identity), [
            {"member_id": m, "platform": "telegram", "platform_user_id": str(m),
             "private_chat_id": str(m), "linked_at": datetime.now(UTC)} for m in members])
        cells = s.execute(select(Organisation.id).where(Organisation.kind == "cell")
                          ).scalars().all()
        s.execute(insert(ChatBinding), [
            {"platform": "telegram", "chat_id": str(-c), "org_id": c, "active": True,
             "bound_at": datetime.now(UTC)} for c in cells])
        s.commit()
    settings = load_settings(None, database={"url": url})
    now = MEETING - timedelta(days=6)
    with Session(engine) as s:
        materialise(s, settings, now)
        s.commit()
    while now < MEETING + timedelta(days=4):
        now += timedelta(hours=1)
        sweep(engine, settings, now)
    with Session(engine) as s:
        n = s.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
    engine.dispose()
    return n


async def _no_updates(_inc: object) -> bool:
    return True  # this bench only sends


async def deliver(url: str, base: str) -> tuple[int, float, float, float]:
    """Drain the outbox; returns rows handled, wall seconds, bot CPU seconds and the
    longest event-loop block in ms."""
    engine = make_engine(url)
    # The adapter's own margin: 95% of each limit (bot/platforms/telegram.py does the same).
    caps = Capabilities(buttons=True, max_text=4096, global_per_second=ALLOWED_PER_SECOND * 0.95,
                        group_per_minute=GROUP_PER_MINUTE * 0.95, private_per_second=10)
    adapter = TelegramAdapter(TelegramSettings(token="123456:TEST-token", base_url=base),
                              _no_updates, capabilities=caps)
    await adapter.start()
    freeze_heap()  # as `chibot run` does once started
    start_clock = MEETING + timedelta(days=5)
    lag = LoopLag().start()
    t0, cpu0 = time.monotonic(), time.process_time()
    sender = OutboxSender(engine, {"telegram": adapter},
                          clock=lambda: start_clock + timedelta(seconds=time.monotonic() - t0),
                          concurrency=48)
    sent = await sender.drain()
    elapsed = time.monotonic() - t0
    cpu = time.process_time() - cpu0
    await lag.stop()
    print(f"bot CPU during delivery: {cpu:.1f}s of {elapsed:.1f}s wall")
    print(lag.summary())
    await adapter.stop()
    engine.dispose()
    return sent, elapsed, cpu, lag.max_ms


def undelivered(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as s:
        n = s.execute(select(func.count()).select_from(OutboxMessage)
                      .where(OutboxMessage.status != "sent")).scalar_one()
    engine.dispose()
    return n


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", help="database URL (default: a fresh SQLite file)")
    ap.add_argument("--bases", type=int, default=100)
    ap.add_argument("--cells-per-base", type=int, default=5)
    ap.add_argument("--members-per-cell", type=int, default=16)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="chibot-fanout-")
    url = args.url or f"sqlite:///{tmp.name}/fanout.sqlite3"
    t = time.monotonic()
    queued = prepare(url, args)
    print(f"prepared {queued} messages for {args.bases * args.cells_per_base} cells in "
          f"{time.monotonic() - t:.1f}s")
    emu = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "tg_emulator.py"), "--per-second",
         str(ALLOWED_PER_SECOND), "--group-per-minute", str(GROUP_PER_MINUTE)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = emu.stdout.readline().split()  # type: ignore[union-attr]
        base, stats_url = line[1], line[2]
        _sent, elapsed, cpu, _lag = asyncio.run(deliver(url, base))
        with urllib.request.urlopen(stats_url) as r:
            stats = json.load(r)
    finally:
        emu.terminate()
        emu.wait()
    rate = stats["sent"] / elapsed if elapsed else 0
    print(f"delivered {stats['sent']} of {queued} in {elapsed:.1f}s: {rate:.0f} msg/s, "
          f"{rate / ALLOWED_PER_SECOND:.2f} of the allowed {ALLOWED_PER_SECOND}/s "
          f"(target >= 0.95)")
    print(f"429 answers: {stats['status_429']} (target 0)")
    print(f"undelivered at the end: {undelivered(url)} (target 0)")
    print(f"bot CPU per message: {cpu * 1000 / max(stats['sent'], 1):.2f} ms (target <= 1.5)")
    print(f"peak memory of the bot process: {rss_mb():.0f} MB (target < 150)")
    tmp.cleanup()
    return 0 if stats["sent"] == queued else 1


if __name__ == "__main__":
    sys.exit(main())
