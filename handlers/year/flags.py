"""The year's rules as /flags and the roll call show them: Điều 8 and the HD 42 run.

Điều 8 (models/dieu8.py): unexcused absences and unpaid fee months, each kind on its own,
in the calendar year: 3 flags, 2 warns, some of each is "cần lưu ý". HD 42 (models/
streaks.py): a member absent more than 3 times in a row this year costs the cell its
attendance bonus. Everything here is said privately (to the secretary, the officer or
the member), never in the group.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from handlers.core.labels import cell_label
from handlers.core.notify import send_private
from models import dieu8, streaks
from models.dieu8 import Level
from models.i18n import N_, _, use_locale
from models.member import Member
from models.org import Organisation

_LEVELS = {Level.FLAG: N_("thuộc diện xem xét xóa tên"), Level.WARN: N_("cảnh báo"),
           Level.ATTENTION: N_("cần lưu ý")}


def _level_text(level: Level | None) -> str:
    """One lookup: the web view's lists call it for each of up to 200 members."""
    return _(_LEVELS[level]) if level else ""


def dieu8_lines(s: Session, root: Organisation, upto: str) -> list[str]:
    rows = dieu8.members_to_watch(s, root, upto)
    lines = [_("Điều lệ Đảng, Điều 8 — vắng không lý do hoặc không đóng đảng phí 3 tháng "
               "trong năm {y} (mỗi loại tính riêng):").format(y=upto[:4])]
    for level in (Level.FLAG, Level.WARN, Level.ATTENTION):
        for r in rows:
            if r["level"] is level:
                lines.append(_("• {name} ({cell}): vắng không lý do {u}, chưa đóng đảng phí "
                               "{p} tháng — {what}").format(
                    name=r["name"], cell=cell_label(r["cell"], r["parent"]), u=r["unexcused"],
                    p=r["unpaid"], what=_level_text(level)))
    if not rows:
        lines.append(_("• Không có."))
    return lines


def streak_lines(s: Session, root: Organisation, year: int, upto: datetime) -> list[str]:
    rows = streaks.long_runs(s, root, year, upto)
    lines = [_("Vắng quá {n} buổi liên tiếp trong năm {y} (chi bộ mất điểm thưởng dự họp, "
               "HD 42):").format(n=streaks.STREAK_LIMIT, y=year)]
    lines += [_("• {name} ({cell}): {r} buổi liên tiếp").format(
        name=r["name"], cell=cell_label(r["cell"], r["parent"]), r=r["run"]) for r in rows] \
        or [_("• Không có.")]
    return lines


def rollcall_warnings(s: Session, cell: Organisation, period: str, member_ids: list[int],
                      now: datetime) -> list[str]:
    """Lines for the secretary after a roll call, for the members just marked absent or
    unpaid; a member who has just reached 2 of a kind is told privately, politely."""
    out = []
    for mid in member_ids:
        member = s.get(Member, mid)
        if member is None:
            continue
        c = dieu8.counts_for(s, cell, mid, period)
        if c.level is Level.FLAG:
            out.append(_("⛔ Đồng chí {name}: vắng không lý do {u}, chưa đóng đảng phí {p} tháng "
                         "trong năm — thuộc diện xem xét xóa tên (Điều lệ Đảng, Điều 8). Việc "
                         "này chỉ báo riêng cho đồng chí.").format(
                name=member.full_name, u=c.unexcused, p=c.unpaid))
        elif c.level is Level.WARN:
            out.append(_("⚠️ Đồng chí {name}: vắng không lý do {u}, chưa đóng đảng phí {p} "
                         "tháng trong năm. Đề nghị chi bộ nhắc nhở riêng.").format(
                name=member.full_name, u=c.unexcused, p=c.unpaid))
            _tell_member(s, member, c, period, now)
        elif c.level is Level.ATTENTION:
            out.append(_("ℹ️ Đồng chí {name}: vắng không lý do {u}, chưa đóng đảng phí {p} "
                         "tháng trong năm — cần lưu ý.").format(
                name=member.full_name, u=c.unexcused, p=c.unpaid))
    return out


def _tell_member(s: Session, member: Member, c: dieu8.Counts, period: str,
                 now: datetime) -> None:
    with use_locale(member.locale):
        parts = ([_("đã vắng sinh hoạt không lý do {u} lần").format(u=c.unexcused)]
                 if c.unexcused else []) + \
            ([_("chưa đóng đảng phí {p} tháng").format(p=c.unpaid)] if c.unpaid else [])
        text = _("Kính gửi đồng chí {name}: theo ghi nhận của chi bộ, trong năm {y} đồng chí "
                 "{what}. Theo Điều lệ Đảng (Điều 8), 3 lần trong một năm thì chi bộ phải "
                 "xem xét. Nếu có điều chưa đúng, đồng chí vui lòng trao đổi với bí thư chi "
                 "bộ. Trân trọng.").format(name=member.full_name, y=period[:4],
                                            what=_(" và ").join(parts))
    # One note per member, kind count and year: a second roll call does not repeat it.
    key = f"dieu8:{member.id}:{period[:4]}:{c.unexcused}:{c.unpaid}"
    send_private(s, member, text, key, now=now)
