"""`chibot run` at rest: memory (RSS) and SQL statements per second with nothing to do.

    python bench/bench_idle.py [--url DB] [--seconds 60]

Runs the real `chibot run` against the Telegram emulator (both in their own processes)
on the given database (e.g. the 10-year bloc of `chibot bench-seed`; default: a fresh
database with the sample bloc). The first cycle tick materialises the coming meetings
and sweeps; then the bot idles. Prints the RSS after the first tick, the peak RSS, and
the statements per second while idle, counted from SQLAlchemy's echo log (targets:
RSS < 150 MB, idle statements <= 0.2/s).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.importer import import_file  # noqa: E402
from models.db import make_engine, migrate  # noqa: E402

STATEMENTS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "NOTIFY", "LISTEN")


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", help="database URL (default: a fresh one with the sample bloc)")
    ap.add_argument("--seconds", type=float, default=60, help="idle time measured")
    ap.add_argument("--settle", type=float, default=180,
                    help="at most this long for the start-up and the first tick")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="chibot-idle-")
    url = args.url
    if not url:
        url = f"sqlite:///{tmp.name}/idle.sqlite3"
        engine = make_engine(url)
        migrate(engine)
        import_file(engine, ROOT / "bot" / "data" / "sample_bloc.csv",
                    bloc_name="Đảng bộ Khối", timezone="Asia/Ho_Chi_Minh")
        engine.dispose()
    emu = subprocess.Popen([sys.executable, str(ROOT / "tests" / "tg_emulator.py")],
                           stdout=subprocess.PIPE, text=True, cwd=ROOT)
    _ready, base, _stats = emu.stdout.readline().split()  # type: ignore[union-attr]
    env = {**os.environ, "CHIBOT_DATABASE__URL": url, "CHIBOT_DATABASE__ECHO": "true",
           "CHIBOT_TELEGRAM__TOKEN": "123456:TEST-token", "CHIBOT_TELEGRAM__BASE_URL": base,
           "CHIBOT_DATA_DIR": tmp.name, "CHIBOT_LOG_LEVEL": "INFO"}
    bot = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stamps: list[float] = []

    def read_log() -> None:
        assert bot.stdout is not None
        for line in bot.stdout:  # SQLAlchemy's echo writes to stdout
            head = line.split("sqlalchemy.engine.Engine", 1)
            if len(head) == 2 and head[1].strip().upper().startswith(STATEMENTS):
                stamps.append(time.monotonic())
                if os.environ.get("BENCH_IDLE_SHOW"):
                    print("   ", head[1].strip()[:160], flush=True)

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    try:
        # Start-up, migrations, the first materialise and sweep: until 5 s without SQL.
        started = time.monotonic()
        while time.monotonic() - started < args.settle:
            time.sleep(1)
            if stamps and time.monotonic() - stamps[-1] > 5:
                break
        after_tick = rss_mb(bot.pid)
        t0 = time.monotonic()
        time.sleep(args.seconds)
        t1 = time.monotonic()
        idle = [t for t in stamps if t0 <= t < t1]
        peak = rss_mb(bot.pid, "VmHWM")
        alive = bot.poll() is None
    finally:
        bot.terminate()
        bot.wait()
        emu.terminate()
        emu.wait()
        tmp.cleanup()
    print(f"chibot run on {url.split('://', 1)[0]}: RSS after the first tick "
          f"{after_tick:.0f} MB, peak {peak:.0f} MB (target < 150)")
    print(f"idle: {len(idle)} statements in {t1 - t0:.0f} s = "
          f"{len(idle) / (t1 - t0):.2f}/s (target <= 0.2)")
    return 0 if alive else 1


if __name__ == "__main__":
    sys.exit(main())
