"""Several processes, one busy group: two `chibot run` processes on one PostgreSQL, a
backlog of messages to one Telegram group, the process that sends killed (kill -9)
partway. Prints the most messages in any minute (Telegram allows 20 per group), the 429s
the emulator answered (it enforces Telegram's limits), duplicates, lost messages, how long
until the other process held the sender's lease, and until the group's next message.

    python bench/bench_pacing.py --database-url postgresql+psycopg://… [--messages 40]

The database given is emptied first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import Session, select  # noqa: E402

from bench import multiproc as mp  # noqa: E402
from bot.leader import holder_pid  # noqa: E402
from models.base import utcnow  # noqa: E402
from models.db import make_engine  # noqa: E402
from models.messages import Outgoing  # noqa: E402
from models.outbox import OutboxMessage  # noqa: E402
from models.outbox_queue import enqueue  # noqa: E402
from tests.tg_emulator import max_per_minute  # noqa: E402

GROUP = -1001


def sent(control: str) -> list[tuple[str, float]]:
    with urllib.request.urlopen(f"{control}/sent?chat={GROUP}") as r:
        return [(t, at) for t, at in json.load(r)]


def stats(control: str) -> dict[str, float]:
    with urllib.request.urlopen(f"{control}/stats") as r:
        return json.load(r)  # type: ignore[no-any-return]




async def run(url: str, messages: int, kill_after: int) -> int:
    mp.fresh_database(url, 39)
    engine = make_engine(url)
    proc, base, control = mp.emulator(group_per_minute=20, per_second=30)
    bots = [mp.Bot(url, base) for _ in range(2)]
    try:
        for b in bots:
            b.start()
        for b in bots:
            await b.ready()
        with Session(engine) as s:
            for i in range(messages):
                enqueue(s, Outgoing(platform="telegram", chat_id=str(GROUP),
                                    text=f"Thông báo {i + 1}", key=f"busy:{i}"),
                        now=utcnow(), is_group=True)
            s.commit()
        while len(sent(control)) < kill_after:
            await asyncio.sleep(0.1)
        while True:  # nothing in flight: a kill now is a clean one
            with Session(engine) as s:
                if not s.exec(select(OutboxMessage.id).where(
                        OutboxMessage.status == "sending")).first():
                    break
            await asyncio.sleep(0.05)
        victim = holder_pid(engine, "telegram")
        assert victim is not None, "no process holds the sender's lease"
        os.kill(victim, signal.SIGKILL)
        killed_at, before = time.time(), len(sent(control))
        while (holder := holder_pid(engine, "telegram")) in (None, victim):
            await asyncio.sleep(0.05)
        lease_after = time.time() - killed_at
        deadline = time.time() + messages * 3.5 + 60
        while len(sent(control)) < messages and time.time() < deadline:
            await asyncio.sleep(0.5)
        got = sent(control)
        st = stats(control)
    finally:
        for b in bots:
            b.stop()
        proc.terminate()
        proc.wait()
        engine.dispose()
    texts = [t for t, _at in got]
    times = [at for _t, at in got]
    dupes = sum(n - 1 for n in Counter(texts).values())
    lost = len({f"Thông báo {i + 1}" for i in range(messages)} - set(texts))
    in_order = texts == [f"Thông báo {i + 1}" for i in range(messages)]
    next_after = times[before] - killed_at if len(times) > before else float("nan")
    print(f"two processes, one group, {messages} messages queued at once; the sender "
          f"(pid {victim}) killed -9 after {before} messages")
    print(f"  sent {len(got)} in {times[-1] - times[0]:.0f} s; at most "
          f"{max_per_minute(times)} in any 60 s (Telegram: 20); 429 answers: "
          f"{st['status_429']:.0f}; duplicates {dupes}; lost {lost}; in order: {in_order}")
    print(f"  takeover: pid {holder} held the lease {lease_after:.1f} s after the kill; "
          f"the group's next message came {next_after:.1f} s after it (the group's pacing "
          f"gap is 60/19 = 3.2 s)")
    return 0 if not dupes and not lost and st["status_429"] == 0 else 1


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", default=os.environ.get("CHIBOT_BENCH_DATABASE_URL"))
    ap.add_argument("--messages", type=int, default=40)
    ap.add_argument("--kill-after", type=int, default=12)
    args = ap.parse_args()
    if not (args.database_url or "").startswith("postgresql"):
        raise SystemExit("--database-url postgresql+psycopg://… (it is emptied first)")
    return asyncio.run(run(args.database_url, args.messages, args.kill_after))


if __name__ == "__main__":
    sys.exit(main())
