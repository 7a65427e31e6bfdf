"""`chibot console`: an interactive terminal chat as one member."""

from __future__ import annotations

import uuid

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
from models.member import Member
from models.org import Organisation

HELP = """Lệnh của bảng điều khiển (không gửi tới bot):
  :nhom      chuyển sang nhóm chat của chi bộ
  :rieng     chuyển sang tin nhắn riêng với bot
  :as TÊN    nói với tư cách đảng viên khác
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


def prepare_user(app: App, name: str, in_group: bool = False) -> ConsoleUser:
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
        return ConsoleUser(m.id or 0, m.full_name, m.cell_id, in_group)


async def run_console(app: App, as_name: str, in_group: bool) -> None:
    app.add_messenger(ConsoleMessenger(chat_namer(app)))
    user = prepare_user(app, as_name, in_group)
    run_id = uuid.uuid4().hex[:8]
    print(HELP)
    while True:
        where = "nhóm" if user.in_group else "riêng"
        line = await read_line(f"[{user.name} · {where}] > ")
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
            user = prepare_user(app, line[4:].strip())
            continue
        app.handle(user.incoming(line, run_id, app.clock()))
        await app.sender.drain()


