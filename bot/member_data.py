"""`chibot member-data export|erase --member "TÊN"`: one member's personal data
(Nghị định 13/2023/NĐ-CP), written out as JSON or erased; the rules are in
``models.personal``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlmodel import Session, select

from models import i18n
from models.base import utcnow
from models.db import make_engine, migrate
from models.member import Member
from models.org import Organisation
from models.personal import PersonalDataError, erase_member, export_json
from models.settings import Settings
from models.text import fold


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    md = sub.add_parser("member-data", help="export or erase one member's personal data")
    md.add_argument("action", choices=["export", "erase"])
    who = md.add_mutually_exclusive_group(required=True)
    who.add_argument("--member", help="member's full name (members who left included)")
    who.add_argument("--id", type=int, help="member id, when several share the name")
    md.add_argument("--out", help="export: the .json file to write (default: standard output)")
    md.add_argument("--yes", action="store_true", help="erase: confirm; nothing is erased "
                                                        "without it")


def _find(s: Session, args: argparse.Namespace) -> Member | None:
    if args.id is not None:
        found = [m] if (m := s.get(Member, args.id)) else []
    else:
        needle = fold(args.member)
        members = list(s.exec(select(Member).order_by(Member.id)))
        found = [m for m in members if fold(m.full_name) == needle]
    if len(found) == 1:
        return found[0]
    who = args.member if args.id is None else f"#{args.id}"
    print(f"Cần đúng một đảng viên “{who}”, tìm thấy {len(found)}.", file=sys.stderr)
    for m in found:  # same names: tell them apart by cell, status and id
        cell = s.get(Organisation, m.cell_id) if m.cell_id else None
        state = "đang sinh hoạt" if m.active else "đã rời chi bộ"
        print(f"  • {m.full_name} — {cell.name if cell else '?'}, {state}: --id {m.id}",
              file=sys.stderr)
    return None


def cmd_member_data(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "erase" and not args.yes:
        print("Xóa dữ liệu cá nhân không hoàn tác được: thêm --yes để xác nhận "
              "(nên chạy member-data export và chibot backup trước).", file=sys.stderr)
        return 2
    i18n.configure(settings.locales_dir, settings.locale)
    engine = make_engine(settings.database_url)
    migrate(engine)
    try:
        with Session(engine) as s:
            member = _find(s, args)
            if member is None:
                return 1
            if args.action == "export":
                data = export_json(s, member)
                if args.out:
                    Path(args.out).write_text(data + "\n", encoding="utf-8")
                    print(f"Đã ghi {args.out}: dữ liệu của {member.full_name}.", file=sys.stderr)
                else:
                    print(data)
                return 0
            name = member.full_name
            try:
                counts = erase_member(s, member, now=utcnow())
            except PersonalDataError as exc:
                print(exc, file=sys.stderr)
                return 1
            s.commit()
            done = ", ".join(f"{k}: {v}" for k, v in counts.items())
            print(f"Đã xóa dữ liệu cá nhân của {name}, nay là “{member.full_name}” ({done}).")
            return 0
    finally:
        engine.dispose()
