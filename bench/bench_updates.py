"""Update handling: messages/s through the full stack (Telegram adapter -> router -> forms
-> database -> outbox) against a bare python-telegram-bot echo bot on the same emulator,
the latency from an update's arrival to its reply being queued and sent, SQL statements
per update, and the longest event-loop block.

    python bench/bench_updates.py [--users 200] [--per-user 10] [--rate 100]
                                  [--arrivals poisson|ticks] [--sheet FILE]
    python bench/bench_updates.py --processes 1,2 --database-url postgresql+psycopg://…

With ``--processes``: that many `chibot run` processes in webhook mode on one PostgreSQL
(the database given is emptied), behind one webhook address (bench/multiproc.py), for
updates/s with each count, the ratio, and that every update was recorded once. An update
counts as handled when its webhook request is answered 200, which a process does only
once the update, its dedupe row and its reply are committed; the replies are sent
meanwhile by the one elected sender at Telegram's pace (1 a second per private chat after
a burst of 3), so most are still queued when the burst ends, in either count.

Members: the sample bloc (39) or ``--sheet FILE`` imported; when ``--users`` is larger,
a generated bloc (``chibot bench-seed`` without history). Phases:
1. ``--sent-rate`` updates/s (below Telegram's 30 messages/s and 1 message/s per chat)
   while the outbox is empty, for "update -> reply sent";
2. a burst of users x per-user updates, for throughput (the sender running, as in
   production; it queues minutes of paced replies, by design);
3. ``--rate`` updates/s for ten seconds, as Poisson arrivals (or all users at once each
   tick with ``--arrivals ticks``), for "update -> reply queued";
4. plain texts ("xin chào"), to count the statements of a plain update.
The emulator runs in its own process. Replies are paced per chat by the outbox
(Telegram: 1 message/s per private chat), so throughput is measured up to "reply
queued, committed"; the echo bot has no pacing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert, select  # noqa: E402
from sqlmodel import Session  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters  # noqa: E402

from bench.looplag import LoopLag  # noqa: E402
from bot.app import App  # noqa: E402
from bot.benchseed import seed  # noqa: E402
from bot.importer import import_file  # noqa: E402
from bot.platforms.telegram import TelegramAdapter  # noqa: E402
from bot.runner import freeze_heap  # noqa: E402
from models.member import Identity, Member  # noqa: E402
from models.outbox import OutboxMessage  # noqa: E402
from models.settings import TelegramSettings, load_settings  # noqa: E402

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


class StatementCounter:
    """Counts SQL statements sent to the database (an SQLAlchemy event listener)."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.n = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args) -> None:  # type: ignore[no-untyped-def]
        self.n += 1


def load_members(app: App, users: int, sheet: str | None) -> list[int]:
    if sheet:
        report = import_file(app.engine, Path(sheet), bloc_name="Đảng bộ Khối",
                             timezone="Asia/Ho_Chi_Minh")
        if not report.ok:
            raise SystemExit(f"{sheet}: {report.errors[:3]}")
    elif users <= 39:
        import_file(app.engine, ROOT / "bot" / "data" / "sample_bloc.csv",
                    bloc_name="Đảng bộ Khối", timezone="Asia/Ho_Chi_Minh")
    else:  # a generated bloc: 16 members per cell, 5 cells per base
        seed(app.engine, bases=-(-users // 80), years=0, log=lambda *_: None)
    with Session(app.engine) as s:
        members = s.execute(select(Member.id).where(Member.active == True)  # noqa: E712
                            .order_by(Member.id)).scalars().all()
    if users > len(members):
        raise SystemExit(f"--users at most {len(members)} (the members loaded)")
    return list(members[:users])


async def push_arrivals(control: str, users: int, rate: float, seconds: float,
                        mode: str) -> None:
    """``rate`` updates/s for ``seconds``: Poisson arrivals (one update at a time, random
    users), or every user at once each tick (bursts)."""
    rng = random.Random(7)
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as http:
        start = loop.time()
        if mode == "ticks":
            batch = workload(users, 1)
            tick = len(batch) / rate
            k = 0
            while loop.time() - start < seconds:
                async with http.post(control + "/push", json=batch) as r:
                    await r.read()
                k += 1
                await asyncio.sleep(max(start + k * tick - loop.time(), 0))
            return
        at = start
        while True:
            at += rng.expovariate(rate)
            if at - start >= seconds:
                return
            await asyncio.sleep(max(at - loop.time(), 0))
            u = rng.randrange(users)
            async with http.post(control + "/push", json=[
                    {"uid": 1000 + u, "text": TEXTS[rng.randrange(len(TEXTS))]}]) as r:
                await r.read()


async def wait_handled(adapter: TelegramAdapter, last: int) -> None:
    while adapter.last_update_id < last:
        await asyncio.sleep(0.02)


def pct(values: list[float], q: int) -> float:
    if len(values) < 20:
        return max(values, default=0.0)
    return statistics.quantiles(values, n=100)[q - 1]


async def drained(app: App, seconds: float) -> None:
    """Wait until every queued reply is sent (at most ``seconds``)."""
    deadline = time.time() + seconds
    while time.time() < deadline and await asyncio.to_thread(unsent, app) is not None:
        await asyncio.sleep(0.2)


def unsent(app: App) -> object:
    with Session(app.engine) as s:
        return s.execute(select(OutboxMessage.id).where(OutboxMessage.status != "sent")
                         .limit(1)).first()


async def run_chibot(args: argparse.Namespace) -> dict[str, float]:
    tmp = tempfile.mkdtemp(prefix="chibot-upd-")
    settings = load_settings(None, data_dir=tmp, database={"url": f"sqlite:///{tmp}/u.db"})
    app = App(settings)
    members = load_members(app, args.users, args.sheet)
    with Session(app.engine) as s:
        s.execute(insert(Identity), [
            {"member_id": m, "platform": "telegram", "platform_user_id": str(1000 + u),
             "private_chat_id": str(1000 + u), "linked_at": datetime.now(UTC)}
            for u, m in enumerate(members)])
        s.commit()
    proc, base, control = emulator()
    out: dict[str, float] = {}
    try:
        adapter = TelegramAdapter(TelegramSettings(token=TOKEN, base_url=base), app.receive,
                                  poll_timeout=1, handle_many=app.receive_many)
        await adapter.start()
        app.add_messenger(adapter)
        freeze_heap()  # as `chibot run` does once started
        stop, sender_stop = asyncio.Event(), asyncio.Event()
        lag = LoopLag().start()
        sender = asyncio.create_task(app.sender.run(sender_stop))
        task = asyncio.create_task(adapter.run(stop))
        counter = StatementCounter(app.engine)
        # 0. Arrivals below Telegram's 30 messages/s while the outbox is empty, for "reply
        # sent" (the burst below queues minutes of paced replies, by design).
        await push_arrivals(control, args.users, args.sent_rate, 10, "poisson")
        got = await asyncio.to_thread(call, control + "/pushed")
        sent_phase = {int(k) for k in got}  # type: ignore[union-attr]
        await wait_handled(adapter, max(sent_phase))
        await drained(app, 30)
        counter.n = 0
        # 1. A burst, for throughput.
        work = workload(args.users, args.per_user)
        t0 = time.time()
        ids = await asyncio.to_thread(call, control + "/push", work)
        await wait_handled(adapter, max(ids))  # type: ignore[type-var]
        out["elapsed"] = time.time() - t0
        out["updates"] = len(work)
        out["burst_statements"] = counter.n / len(work)
        first_steady = max(ids) + 1  # type: ignore[type-var]
        # 2. Arrivals at ``rate``, for the latencies (the sender delivering meanwhile).
        await asyncio.sleep(2)  # the burst's replies are still being paced out
        await push_arrivals(control, args.users, args.rate, 10, args.arrivals)
        got = await asyncio.to_thread(call, control + "/pushed")
        pushed_now = {int(k): v for k, v in got.items()}  # type: ignore[attr-defined]
        await wait_handled(adapter, max(pushed_now))
        last_steady = max(pushed_now)
        # 3. Plain texts, for the statements per plain update (the sender paused, so
        # that only the handling's statements are counted).
        sender_stop.set()
        await sender
        n_plain = min(args.users, 100)
        before = counter.n
        ids = await asyncio.to_thread(call, control + "/push", [
            {"uid": 1000 + u, "text": "xin chào"} for u in range(n_plain)])
        await wait_handled(adapter, max(ids))  # type: ignore[type-var]
        out["plain_statements"] = (counter.n - before) / n_plain
        stop.set()
        await asyncio.gather(task, return_exceptions=True)
        await lag.stop()
        out["lag_max_ms"] = lag.max_ms
        print(lag.summary())
        await adapter.stop()
        pushed = {int(k): v for k, v in call(control + "/pushed").items()}  # type: ignore[union-attr]
        with Session(app.engine) as s:
            rows = s.execute(select(OutboxMessage.idempotency_key, OutboxMessage.created_at,
                                    OutboxMessage.sent_at)
                             .where(OutboxMessage.idempotency_key.like("r:telegram:%:1"))).all()
        queued, sent = [], []
        for key, created, sent_at in rows:
            uid = int(key.split(":")[2])
            if first_steady <= uid <= last_steady:
                queued.append(created.timestamp() - pushed[uid])
            if uid in sent_phase and sent_at is not None:
                sent.append(sent_at.timestamp() - pushed[uid])
        out["queued_p50"] = statistics.median(queued) * 1000 if queued else 0
        out["queued_p95"] = pct(queued, 95) * 1000
        out["sent_p50"] = statistics.median(sent) * 1000 if sent else 0
        out["sent_p95"] = pct(sent, 95) * 1000
        out["latency_n"] = len(queued)
        out["sent_n"] = len(sent)
        return out
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


async def run_processes(args: argparse.Namespace) -> int:
    from bench import multiproc as mp

    counts = [int(x) for x in args.processes.split(",")]
    rates: dict[int, float] = {}
    rng = random.Random(7)
    for n in counts:
        mp.fresh_database(args.database_url, args.users)
        proc, base, _control = mp.emulator()
        bots = [mp.Bot(args.database_url, base) for _ in range(n)]
        try:
            for b in bots:
                b.start()
            for b in bots:
                await b.ready()
            warm = [mp.update(i, 1000 + i % args.users, "xin chào") for i in range(1, 201)]
            await mp.deliver(bots, warm, redeliver_every=0)
            first = 1001
            work = [mp.update(first + k, 1000 + rng.randrange(args.users),
                              TEXTS[rng.randrange(len(TEXTS))])
                    for k in range(args.users * args.per_user)]
            pids = [b.proc.pid for b in bots if b.proc is not None]
            pg = mp.postgres_pids()
            each0 = [mp.cpu_seconds([p]) for p in pids]
            cpu0 = (mp.cpu_seconds(pids), mp.cpu_seconds(pg), time.process_time(),
                    mp.cpu_seconds([proc.pid]))
            elapsed, statuses = await mp.deliver(bots, work)
            cpu = [b - a for a, b in zip(cpu0, (mp.cpu_seconds(pids), mp.cpu_seconds(pg),
                                                time.process_time(),
                                                mp.cpu_seconds([proc.pid])), strict=True)]
            each = [mp.cpu_seconds([p]) - c for p, c in zip(pids, each0, strict=True)]
            recorded, distinct, replies = await asyncio.to_thread(
                mp.handled, args.database_url, first, first + len(work) - 1)
        finally:
            for b in bots:
                b.stop()
            proc.terminate()
            proc.wait()
        rates[n] = len(work) / elapsed
        print(f"{n} process(es) behind one webhook address, PostgreSQL: {len(work)} updates "
              f"in {elapsed:.2f}s = {rates[n]:.0f} updates/s; HTTP answers {statuses} "
              f"(every 50th update delivered twice, to the other process); recorded "
              f"{distinct} of {len(work)} (lost {len(work) - distinct}), recorded twice "
              f"{recorded - distinct}; {replies} of them with their reply queued once")
        print(f"  CPU seconds meanwhile: chibot {cpu[0]:.1f} "
              f"({' + '.join(f'{c:.1f}' for c in each)}), PostgreSQL {cpu[1]:.1f}, "
              f"the bench's client {cpu[2]:.1f}, the emulator {cpu[3]:.1f} (the machine "
              f"had {elapsed * (os.cpu_count() or 1):.1f}, busy "
              f"{sum(cpu) / (elapsed * (os.cpu_count() or 1)):.0%}); per update "
              f"{sum(cpu) / len(work) * 1000:.2f} ms, of it chibot "
              f"{cpu[0] / len(work) * 1000:.2f} ms")
    if len(counts) > 1:
        base_rate = rates[counts[0]]
        for n in counts[1:]:
            print(f"ratio {n} / {counts[0]} processes: {rates[n] / base_rate:.2f} "
                  f"(target >= 1.6 for 2 on a 2-core machine)")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=39)
    ap.add_argument("--per-user", type=int, default=50)
    ap.add_argument("--rate", "--steady", type=float, default=100, dest="rate",
                    help="updates/s for the latency phase")
    ap.add_argument("--arrivals", choices=("poisson", "ticks"), default="poisson")
    ap.add_argument("--sent-rate", type=float,
                    help="updates/s for the 'reply sent' phase (default: 20, or half an "
                         "update/s per user if less: below Telegram's 30 messages/s and "
                         "1 message/s per chat)")
    ap.add_argument("--sheet", help="import this member sheet instead of the sample bloc")
    ap.add_argument("--processes", help="e.g. 1,2: chibot run processes on PostgreSQL "
                    "behind one webhook address (needs --database-url, which is emptied)")
    ap.add_argument("--database-url", help="PostgreSQL for --processes (emptied first)")
    args = ap.parse_args()
    if args.processes:
        if not (args.database_url or "").startswith("postgresql"):
            raise SystemExit("--processes needs --database-url postgresql+psycopg://…")
        return asyncio.run(run_processes(args))
    if args.sent_rate is None:
        args.sent_rate = min(20.0, args.users * 0.5)
    r = asyncio.run(run_chibot(args))
    rate = r["updates"] / r["elapsed"]
    print(f"chibot full stack: {r['updates']:.0f} updates in {r['elapsed']:.2f}s = "
          f"{rate:.0f} updates/s ({r['burst_statements']:.1f} SQL statements per update)")
    print(f"  {args.arrivals} arrivals at {args.rate:.0f} updates/s, {args.users} users, sender "
          f"running ({r['latency_n']:.0f} updates): update -> reply queued p50 "
          f"{r['queued_p50']:.0f} ms, p95 {r['queued_p95']:.0f} ms (target < 50)")
    print(f"  poisson arrivals at {args.sent_rate:.0f} updates/s (below the rate limits, "
          f"{r['sent_n']:.0f} updates): update -> reply sent p50 "
          f"{r['sent_p50']:.0f} ms (target < 100), p95 {r['sent_p95']:.0f} ms")
    print(f"  SQL statements per plain update: {r['plain_statements']:.1f} (target <= 4)")
    print(f"  longest event-loop block: {r['lag_max_ms']:.0f} ms (target < 50)")
    e_elapsed, e_n = asyncio.run(run_echo(args.users, args.per_user))
    e_rate = e_n / e_elapsed
    print(f"bare PTB echo bot: {e_n} updates in {e_elapsed:.2f}s = {e_rate:.0f} updates/s")
    print(f"ratio chibot / echo: {rate / e_rate:.2f} (target >= 0.8)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
