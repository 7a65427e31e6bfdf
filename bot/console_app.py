"""`chibot console`: an interactive terminal chat as one member."""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path

from sqlmodel import Session

from bot.app import App
from bot.platforms.console import (
    ConsoleMessenger,
    ConsoleUser,
    ensure_group,
    ensure_identity,
    find_member,
    read_line,
)
from bot.rehearsal import Rehearsal, RehearsalError, cast, parse_span
from models.i18n import fmt_datetime
from models.member import Member
from models.org import Organisation

HELP = """Lệnh của bảng điều khiển (không gửi tới bot):
  :nhom      chuyển sang nhóm chat của chi bộ
  :rieng     chuyển sang tin nhắn riêng với bot
  :as TÊN    nói với tư cách đảng viên khác
  :tua 3d    (diễn tập, khi chạy với --at) tua thời gian 3 ngày (2h: 2 giờ, 30m: 30 phút);
             chu trình sinh hoạt chạy như thật, in ra tin nhắn mỗi người nhận được
  :thoat     thoát
Mọi dòng khác được gửi tới bot như một tin nhắn (ví dụ /help)."""


def chat_namer(app: App):  # type: ignore[no-untyped-def]
    """Human names for console chat ids, for the transcript."""
    cache: dict[str, str] = {}

    def describe(chat_id: str) -> str:
        if chat_id not in cache:
            kind, _, num = chat_id.partition("-")
            with Session(app.engine) as s:
                if kind == "dm" and num.isdigit():
                    m = s.get(Member, int(num))
                    cache[chat_id] = f"riêng → {m.full_name if m else chat_id}"
                elif kind == "group" and num.isdigit():
                    o = s.get(Organisation, int(num))
                    cache[chat_id] = f"nhóm {o.name if o else chat_id}"
                else:
                    cache[chat_id] = chat_id
        return cache[chat_id]

    return describe


def prepare_user(app: App, name: str, in_group: bool = False,
                 updates: itertools.count | None = None) -> ConsoleUser:  # type: ignore[type-arg]
    """The console user ``name``; ``updates`` numbers the update ids of the whole run, so
    switching back to an earlier member (``:as``) never repeats an id."""
    with Session(app.engine) as s:
        found = find_member(s, name)
        if len(found) != 1:
            names = ", ".join(m.full_name for m in found[:10]) or "không có"
            raise SystemExit(f"Cần đúng một đảng viên tên “{name}” (tìm thấy: {names}).")
        m = found[0]
        ensure_identity(s, m)
        if m.cell_id:
            cell = s.get(Organisation, m.cell_id)
            if cell is not None:
                ensure_group(s, cell)
        s.commit()
        user = ConsoleUser(m.id or 0, m.full_name, m.cell_id, in_group)
        if updates is not None:
            user._updates = updates
        return user


async def run_console(app: App, as_name: str, in_group: bool,
                      rehearsal: Rehearsal | None = None, out_dir: Path | None = None) -> None:
    """Chat as ``as_name``; with ``rehearsal`` the clock is simulated and ``:tua`` moves it.
    Files the bot sends are saved in ``out_dir`` and their path printed."""
    describe = chat_namer(app)
    tz = app.settings.timezone
    if rehearsal is not None:
        def where(chat_id: str) -> str:
            return f"{fmt_datetime(app.clock(), tz)} · {describe(chat_id)}"
        app.add_messenger(ConsoleMessenger(where, out_dir=out_dir))
    else:
        app.add_messenger(ConsoleMessenger(describe, out_dir=out_dir))
    updates = itertools.count(1)
    user = prepare_user(app, as_name, in_group, updates)
    run_id = uuid.uuid4().hex[:8]
    print(HELP)
    if out_dir is not None:
        print(f"Tệp bot gửi (biên bản, nghị quyết, Excel…) được lưu vào {out_dir.resolve()}/")
    if rehearsal is not None:
        cast(app, _member(app, user))
        print(f"Diễn tập: đồng hồ mô phỏng đặt lúc {fmt_datetime(app.clock(), tz)}.")
        await rehearsal.tick()
    while True:
        where_ = "nhóm" if user.in_group else "riêng"
        when = f" · {fmt_datetime(app.clock(), tz)}" if rehearsal is not None else ""
        line = await read_line(f"[{user.name} · {where_}{when}] > ")
        if line is None or line.strip() in (":thoat", ":quit", ":q"):
            break
        line = line.strip()
        if not line:
            continue
        if line in (":nhom", ":group"):
            user.in_group = bool(user.cell_id)
            continue
        if line in (":rieng", ":private"):
            user.in_group = False
            continue
        if line.startswith(":as "):
            user = prepare_user(app, line[4:].strip(), updates=updates)
            if rehearsal is not None:
                cast(app, _member(app, user))
            continue
        if line == ":tua" or line.startswith(":tua "):
            if rehearsal is None:
                print("Lệnh :tua chỉ dùng khi diễn tập: chibot console --at \"2026-11-17 08:00\".")
                continue
            try:
                span = parse_span(line[4:])
            except RehearsalError as exc:
                print(exc)
                continue
            await rehearsal.advance(span)
            print(f"⏩ Bây giờ là {fmt_datetime(app.clock(), tz)}.")
            continue
        app.handle(user.incoming(line, run_id, app.clock()))
        await app.sender.drain()


def _member(app: App, user: ConsoleUser) -> Member:
    with Session(app.engine, expire_on_commit=False) as s:
        m = s.get(Member, user.member_id)
        assert m is not None
        return m
