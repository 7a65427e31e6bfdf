"""chibot command line: run | console | demo | migrate | import | code | report | bench-seed |
backup | restore | member-data."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from models.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from sqlmodel import Session

    from models.org import Organisation

SAMPLE_SHEET = Path(__file__).resolve().parent / "data" / "sample_bloc.csv"


def _settings(args: argparse.Namespace) -> Settings:
    path = args.config or os.environ.get("CHIBOT_CONFIG")
    if path is None and Path("config.toml").is_file():
        path = "config.toml"
    return load_settings(path)


def _setup_logging(settings: Settings, quiet: bool = False) -> None:
    level = logging.ERROR if quiet else getattr(logging, settings.log_level)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not settings.log_library_debug:  # their DEBUG lines carry whole updates and replies
        for chatty in ("telegram", "httpcore"):
            logging.getLogger(chatty).setLevel(max(level, logging.INFO))
    from models.redact import install, settings_secrets

    install(settings_secrets(settings))


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from models.db import make_engine, migrate

    engine = make_engine(settings.database_url)
    migrate(engine)
    print(f"Cơ sở dữ liệu đã ở phiên bản mới nhất: {engine.url.render_as_string()}")
    return 0


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from bot.importer import format_report, import_file
    from models.db import make_engine, migrate

    engine = make_engine(settings.database_url)
    migrate(engine)
    path = SAMPLE_SHEET if args.file == "sample" else Path(args.file)
    report = import_file(engine, path, bloc_name=settings.bloc_name, timezone=settings.timezone)
    for line in format_report(report):
        print(line)
    return 0 if report.ok else 1


def cmd_console(settings: Settings, args: argparse.Namespace) -> int:
    import tempfile

    from sqlmodel import Session, select

    from bot.app import App
    from bot.console_app import run_console
    from bot.importer import import_file
    from bot.rehearsal import Rehearsal, RehearsalError, SimClock, parse_at
    from models.member import Member

    rehearsal_clock = None
    if args.at:
        try:
            rehearsal_clock = SimClock(parse_at(args.at, settings.timezone))
        except RehearsalError as exc:
            print(exc, file=sys.stderr)
            return 2
    # Under the configured data dir, also with --fresh (its own data dir is thrown away).
    out_dir = Path(args.out) if args.out else Path(settings.data_dir) / "console-files"
    with tempfile.TemporaryDirectory(prefix="chibot-console-") as tmp:
        if args.fresh:  # a throw-away database: the rehearsal leaves nothing behind
            settings = settings.model_copy(update={
                "data_dir": Path(tmp), "database": settings.database.model_copy(
                    update={"url": f"sqlite:///{tmp}/console.db"})})
        app = App(settings, clock=rehearsal_clock) if rehearsal_clock else App(settings)
        try:
            with Session(app.engine) as s:
                empty = s.exec(select(Member).limit(1)).first() is None
            if empty:
                print("Cơ sở dữ liệu trống: nạp danh sách mẫu (40 đảng viên, 4 chi bộ).")
                import_file(app.engine, SAMPLE_SHEET, bloc_name=settings.bloc_name,
                            timezone=settings.timezone)
            rehearsal = Rehearsal(app, rehearsal_clock) if rehearsal_clock else None
            asyncio.run(run_console(app, args.as_name, args.group, rehearsal, out_dir))
        finally:
            app.close()
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    if args.web:
        from bot.demo_web import serve_demo

        logging.getLogger().setLevel(logging.WARNING)
        try:
            return asyncio.run(serve_demo(settings))
        except KeyboardInterrupt:
            return 0
    if args.year:
        from bot.demo_year import run_year_demo

        result = asyncio.run(run_year_demo(settings, keep=args.keep, out_dir=Path(args.out)))
        return 0 if result.get("total") else 1
    from bot.demo import run_demo

    summary = asyncio.run(run_demo(settings, keep=args.keep, out_dir=Path(args.out)))
    return 0 if summary.get("total") is not None else 1


def cmd_code(settings: Settings, args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from bot.platforms.console import find_member
    from models import i18n
    from models.base import utcnow
    from models.db import make_engine, migrate
    from models.member import new_link_code
    from models.org import CELL_KINDS
    from models.orgsearch import describe, find_orgs

    engine = make_engine(settings.database_url)
    migrate(engine)
    if args.all and not args.cell:
        print("--all đi cùng --cell \"TÊN CHI BỘ\": phiếu mã của mọi đảng viên trong chi bộ.",
              file=sys.stderr)
        return 2
    i18n.configure(settings.locales_dir, settings.locale)
    with Session(engine) as s:
        if args.member:
            found = find_member(s, args.member)
            if len(found) != 1:
                print(f"Cần đúng một đảng viên tên “{args.member}”, tìm thấy {len(found)}.")
                return 1
            link = new_link_code(s, purpose="member", member_id=found[0].id, now=utcnow())
            what = f"đảng viên {found[0].full_name}: gửi /start {link.code} cho bot"
        else:
            cells = find_orgs(s, args.cell, CELL_KINDS)
            if len(cells) != 1:
                print(f"Cần đúng một chi bộ tên “{args.cell}”, tìm thấy {len(cells)}.")
                for c in cells:  # same-name cells: show the parent and a selector for each
                    print(f"  • {describe(s, c)}: --cell \"{c.path}\"")
                return 1
            if args.all:
                return _code_sheet(settings, s, cells[0], args.out)
            link = new_link_code(s, purpose="chat", org_id=cells[0].id, now=utcnow())
            what = f"{describe(s, cells[0])}: gửi /link {link.code} trong nhóm chat của chi bộ"
        s.commit()
        until = i18n.fmt_datetime(link.expires_at, settings.timezone)
        print(f"Mã {link.code} — {what}. Hết hạn {until}.")
    return 0


def _code_sheet(settings: Settings, s: Session, cell: Organisation,
                out_arg: str | None) -> int:
    """`chibot code --cell X --all`: the printable sheet of every member's code."""
    from handlers.onboarding.codesheet import issue_cell_codes, sheet_docx
    from models.base import utcnow
    from models.text import fold

    sheet = issue_cell_codes(s, cell, now=utcnow(), bot_username=settings.telegram.bot_username,
                             timezone=settings.timezone)
    data = sheet_docx(sheet)  # before the commit: a failure here issues no code
    s.commit()
    out = Path(out_arg or f"ma-lien-ket-{'-'.join(fold(cell.name).split())}.docx")
    out.write_bytes(data)
    print(f"Đã ghi {out}: {len(sheet.cards)} mã đảng viên và mã gắn nhóm {sheet.group_code} "
          f"của {cell.name}, hết hạn {sheet.expires}.")
    if not sheet.bot_username:
        print("Chưa đặt telegram.bot_username: mã QR chỉ chứa mã. Đặt tên bot (không có @) "
              "trong config.toml để mã QR mở thẳng bot.")
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.telegram.token and not settings.zalo.token:
        print("Chưa đặt token Telegram hay Zalo (telegram.token / zalo.token trong config.toml "
              "hoặc CHIBOT_TELEGRAM__TOKEN). Để thử bot không cần token: chibot demo hoặc "
              "chibot console --as \"TÊN\".", file=sys.stderr)
        return 2
    from bot.runner import serve

    return asyncio.run(serve(settings))


def cmd_i18n(settings: Settings, args: argparse.Namespace) -> int:
    from bot.catalogs import main as catalogs_main

    return catalogs_main(args.actions)


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import date

    from sqlmodel import Session, select

    from handlers.committee.charts import chart_png
    from handlers.committee.exports import cells_csv, workbook
    from models.db import make_engine, migrate
    from models.org import Organisation
    from models.orgsearch import describe, find_orgs
    from models.reports import parse_period

    if args.book == "minutes":
        return _minutes_book(settings, args)
    period = parse_period(args.period or "", date.today())
    if period is None:
        print(f"Kỳ “{args.period}” không hợp lệ: 2026-11, 11/2026, q4/2026 hoặc 2026.",
              file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    migrate(engine)
    with Session(engine) as s:
        orgs = find_orgs(s, args.org) if args.org else \
            list(s.exec(select(Organisation).order_by(Organisation.path)))[:1]
        if len(orgs) != 1:
            print(f"Cần đúng một tổ chức (--org \"TÊN\" hoặc \"TÊN — CẤP TRÊN\"), tìm thấy "
                  f"{len(orgs)}.", file=sys.stderr)
            for o in orgs:
                print(f"  • {describe(s, o)}: --org \"{o.path}\"", file=sys.stderr)
            return 1
        root = orgs[0]
        if args.format == "png":
            data = chart_png(s, root, period)
        elif args.format == "csv":
            data = cells_csv(s, root, period, settings, decimal=args.csv_decimal)
        else:
            data = workbook(s, root, period, settings)
    out = Path(args.out or f"bao-cao-{period.first}.{args.format}")
    out.write_bytes(data)
    print(f"Đã ghi {out} ({len(data)} bytes) — {root.name}, kỳ {period.label}.")
    if args.format == "png" and period.kind == "year":  # and the chart of the year's levels
        from handlers.year.sheets import levels_chart_png

        with Session(engine) as s:
            levels = levels_chart_png(s, s.get(Organisation, root.id), int(period.first[:4]),
                                      settings)
        extra = out.with_name(f"{out.stem}-xep-loai{out.suffix}")
        extra.write_bytes(levels)
        print(f"Đã ghi {extra} ({len(levels)} bytes) — biểu đồ xếp loại năm {period.label}.")
    return 0


def _minutes_book(settings: Settings, args: argparse.Namespace) -> int:
    """`chibot report --book minutes --year 2026 --org "CHI BỘ"`: the cell's minutes book;
    for an organisation above cells, one book per cell that has final minutes."""
    from datetime import date

    from sqlmodel import Session, select

    from handlers.records.minutes_book import book_bytes, book_filename
    from models import i18n
    from models.db import make_engine, migrate
    from models.org import Organisation, subtree_cells
    from models.text import fold

    i18n.configure(settings.locales_dir, settings.locale)
    year = args.year or date.today().year
    engine = make_engine(settings.database_url)
    migrate(engine)
    written = 0
    with Session(engine) as s:
        orgs = list(s.exec(select(Organisation).order_by(Organisation.path)))
        root = next((o for o in orgs if args.org and fold(args.org) == fold(o.name)),
                    orgs[0] if orgs and not args.org else None)
        if root is None:
            print("Không tìm thấy tổ chức (dùng --org \"TÊN\").", file=sys.stderr)
            return 1
        cells = [root] if root.is_cell else subtree_cells(s, root=root)
        for cell in cells:
            data, n = book_bytes(s, cell, year, settings.place)
            if not n:
                continue
            if args.out and len(cells) == 1:
                out = Path(args.out)
            elif args.out:
                Path(args.out).mkdir(parents=True, exist_ok=True)
                out = Path(args.out) / book_filename(cell, year)
            else:
                out = Path(book_filename(cell, year))
            out.write_bytes(data)
            written += 1
            print(f"Đã ghi {out} — {cell.name}: {n} biên bản năm {year}.")
    if not written:
        print(f"Chưa có biên bản chính thức nào trong năm {year}.", file=sys.stderr)
        return 1
    return 0


def cmd_bench_seed(settings: Settings, args: argparse.Namespace) -> int:
    from bot.benchseed import seed
    from models.db import make_engine, migrate

    engine = make_engine(args.url or settings.database_url)
    migrate(engine)
    counts = seed(engine, bases=args.bases, cells_per_base=args.cells_per_base,
                  members_per_cell=args.members_per_cell, years=args.years)
    print(", ".join(f"{k}: {v}" for k, v in counts.items()))
    return 0


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from bot.backup import BackupError, backup

    try:
        size = backup(settings.database_url, Path(args.out))
    except BackupError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Đã sao lưu vào {args.out} ({size} bytes).")
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    from bot.backup import BackupError, restore

    url = args.url or settings.database_url
    try:
        revision = restore(Path(args.file), url, force=args.force)
    except BackupError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Đã khôi phục {args.file} vào {make_safe_url(url)}: phiên bản {revision}.")
    return 0


def cmd_member_data(settings: Settings, args: argparse.Namespace) -> int:
    from bot.member_data import cmd_member_data as run

    return run(settings, args)


def make_safe_url(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="chibot", description="chibot: bot sinh hoạt chi bộ")
    p.add_argument("--config", help="config.toml (default: $CHIBOT_CONFIG or ./config.toml)")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("run", help="serve Telegram and/or Zalo")
    sub.add_parser("migrate", help="upgrade the database schema")
    imp = sub.add_parser("import", help="import members from a CSV/XLSX sheet ('sample' = demo)")
    imp.add_argument("file")
    con = sub.add_parser("console", help="chat with the bot in the terminal as a member")
    con.add_argument("--as", dest="as_name", required=True, help="member's full name")
    con.add_argument("--group", action="store_true", help="start in the cell's group chat")
    con.add_argument("--at", help="rehearsal: simulated clock from this local time "
                                  "(\"2026-11-17 08:00\"); :tua 3d moves it and runs the cycle")
    con.add_argument("--fresh", action="store_true",
                     help="a throw-away database seeded with the sample bloc")
    con.add_argument("--out", help="folder for the files the bot sends (default: "
                                   "DATA_DIR/console-files)")
    demo = sub.add_parser("demo", help="play one simulated month of one cell (fresh database)")
    demo.add_argument("--keep", action="store_true",
                      help="use the configured database instead of a throw-away one")
    demo.add_argument("--year", action="store_true",
                      help="play a whole year at speed, ending with the year's classification")
    demo.add_argument("--web", action="store_true",
                      help="serve the demo bloc's web view on 127.0.0.1 and print a "
                           "one-time link to it")
    demo.add_argument("--out", default="chibot-demo",
                      help="folder for the transcript and the month's biên bản and nghị quyết "
                           "(with --year: every file the bot sends in the year)")
    code = sub.add_parser("code", help="print a one-time link code")
    g = code.add_mutually_exclusive_group(required=True)
    g.add_argument("--member", help="member's full name")
    g.add_argument("--cell", help="cell name, for binding its group chat")
    code.add_argument("--all", action="store_true",
                      help="with --cell: a printable .docx with a code and QR code for every "
                           "member, and the group code")
    code.add_argument("--out", help="with --all: the .docx to write")
    rep = sub.add_parser("report", help="write a report file: Excel, CSV or PNG chart")
    rep.add_argument("--period", default="", help="2026-11, 11/2026, q4/2026, 2026")
    rep.add_argument("--format", choices=["xlsx", "csv", "png"], default="xlsx")
    rep.add_argument("--org", help="organisation name (default: the bloc)")
    rep.add_argument("--out", help="output file (a folder for several minutes books)")
    rep.add_argument("--book", choices=["minutes"],
                     help="the minutes book (sổ ghi biên bản) of --year instead of a report")
    rep.add_argument("--year", type=int, help="year of the minutes book (default: this year)")
    rep.add_argument("--csv-decimal", choices=["comma", "dot"], default="comma",
                     help="CSV: decimal comma and ';' (Vietnamese Excel, default) or dot and ','")
    bs = sub.add_parser("bench-seed", help="generate the bloc-scale benchmark data set")
    bs.add_argument("--url", help="database URL (default: the configured one)")
    bs.add_argument("--bases", type=int, default=100)
    bs.add_argument("--cells-per-base", type=int, default=5)
    bs.add_argument("--members-per-cell", type=int, default=16)
    bs.add_argument("--years", type=int, default=10)
    bk = sub.add_parser("backup", help="copy the whole database to a file (SQLite backup "
                                       "API, or pg_dump -Fc for PostgreSQL)")
    bk.add_argument("--out", required=True, help="backup file to write")
    rs = sub.add_parser("restore", help="replace a database with a backup file")
    rs.add_argument("file", help="a file written by chibot backup")
    rs.add_argument("--url", help="target database URL (default: the configured one)")
    rs.add_argument("--force", action="store_true",
                    help="replace a target that already has tables")
    from bot.member_data import add_parser as add_member_data

    add_member_data(sub)
    i18n = sub.add_parser("i18n", help="compile the message catalogues (update/check first)")
    # Not ``choices=``: Python 3.11's argparse checks an empty ``nargs="*"`` list against
    # them and refuses a bare ``chibot i18n``.
    i18n.add_argument("actions", nargs="*", type=_i18n_action, metavar="update|check")
    return p


def _i18n_action(value: str) -> str:
    if value not in ("update", "check"):
        raise argparse.ArgumentTypeError(f"“{value}”: update hoặc check")
    return value


COMMANDS = {"run": cmd_run, "migrate": cmd_migrate, "import": cmd_import,
            "console": cmd_console, "code": cmd_code, "i18n": cmd_i18n, "demo": cmd_demo,
            "report": cmd_report, "bench-seed": cmd_bench_seed, "backup": cmd_backup,
            "restore": cmd_restore, "member-data": cmd_member_data}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args)
    except ConfigError as exc:
        print(f"Lỗi cấu hình: {exc}", file=sys.stderr)
        return 2
    _setup_logging(settings, quiet=args.cmd in ("console", "demo"))
    return COMMANDS[args.cmd](settings, args)


if __name__ == "__main__":
    sys.exit(main())
