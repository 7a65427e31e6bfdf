"""Meetings named as people name them: "12/2026", "12/2026 đột xuất", "tháng 12",
"15/12/2026", or picked from buttons of the cell's recent meetings.

Database ids stay accepted (old habits; "#12" from a button is only ever an id, a typed
1–12 is always a month, a larger number a meeting id of the cell) but are never shown: a text that
tells a member what to type shows ``meeting_ref`` instead. A picked button re-runs the
command with the meeting's id, so the command checks everything again.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from handlers.core.context import Ctx, column
from handlers.core.labels import cell_label, meeting_kind_label
from handlers.core.router import COMMANDS, Where, Who, callback
from handlers.forms.errors import Invalid
from models.i18n import N_, _, fmt_datetime, to_local
from models.meeting import Meeting, MeetingKind, MeetingStatus
from models.org import Organisation
from models.text import as_id, fold

log = logging.getLogger(__name__)

# Folded words people use for a kind (Vietnamese, with or without diacritics; English for
# members who chose it). Longest first, so "hop chi uy" wins over "chi uy".
_KIND_WORDS: list[tuple[tuple[str, ...], str]] = sorted([
    (("thuong", "ky"), MeetingKind.REGULAR.value),
    (("dinh", "ky"), MeetingKind.REGULAR.value),
    (("regular",), MeetingKind.REGULAR.value),
    (("chuyen", "de"), MeetingKind.THEMATIC.value),
    (("thematic",), MeetingKind.THEMATIC.value),
    (("dot", "xuat"), MeetingKind.EXTRAORDINARY.value),
    (("extraordinary",), MeetingKind.EXTRAORDINARY.value),
    (("hop", "chi", "uy"), MeetingKind.COMMITTEE.value),
    (("chi", "uy"), MeetingKind.COMMITTEE.value),
    (("committee",), MeetingKind.COMMITTEE.value),
    (("dien", "dan"), MeetingKind.FORUM.value),
    (("forum",), MeetingKind.FORUM.value),
], key=lambda kv: -len(kv[0]))
# The word a reference shows for a kind (the regular meeting needs none).
_KIND_REF = {MeetingKind.THEMATIC.value: N_("chuyên đề"),
             MeetingKind.EXTRAORDINARY.value: N_("đột xuất"),
             MeetingKind.COMMITTEE.value: N_("chi ủy"),
             MeetingKind.FORUM.value: N_("diễn đàn")}
_MONTH = re.compile(r"t?(\d{1,2})[/.-](\d{4}|\d{2})")  # "12/2026", "12/26"
_ISO_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_DAY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
RECENT = 6  # buttons offered when no meeting is named


@dataclass
class Lookup:
    """What the start of a command's text names. ``named`` is False when the text does not
    begin with a reference (then ``rest`` is the whole text); ``foreign`` when it names by
    id a meeting outside the cells asked about."""

    named: bool
    found: list[Meeting]
    rest: str
    said: str = ""  # the words that named it, for the reply when nothing matches
    foreign: bool = False


def meeting_ref(m: Meeting) -> str:
    """How a text tells a member to name ``m``: "12/2026" or "12/2026 đột xuất"."""
    ref = f"{int(m.period[5:7])}/{m.period[:4]}"
    word = _KIND_REF.get(m.kind)
    return f"{ref} {_(word)}" if word else ref


def meeting_label(m: Meeting) -> str:
    return f"{meeting_kind_label(m.kind)} — {fmt_datetime(m.scheduled_at, m.timezone)}"


def meeting_name(m: Meeting) -> str:
    """A button's label: kind and local time, "Sinh hoạt thường kỳ — 07:30 03/12/2026"."""
    return meeting_label(m)


def _kind_at(words: list[str], i: int) -> tuple[str, int] | None:
    for phrase, kind in _KIND_WORDS:
        if tuple(words[i:i + len(phrase)]) == phrase:
            return kind, len(phrase)
    return None


def _month_year(month: int, now: datetime, tz: str) -> str | None:
    """"tháng 12" without a year: the latest such month not more than a month ahead."""
    if not 1 <= month <= 12:
        return None
    local = to_local(now, tz)
    year = local.year if month <= local.month + 1 else local.year - 1
    return f"{year:04d}-{month:02d}"


def parse(text: str, now: datetime, tz: str) -> tuple[dict[str, object], str, str] | None:
    """The reference at the start of ``text``: ({period|day|ident, kind}, rest, said), or
    None when the text does not start with one."""
    tokens = text.split()
    words = [fold(t) for t in tokens]
    ref: dict[str, object] = {}
    i = 0
    while i < len(words):
        w = words[i]
        kind = _kind_at(words, i) if "kind" not in ref else None
        if kind is not None:
            ref["kind"], i = kind[0], i + kind[1]
            continue
        if any(k in ref for k in ("period", "day", "ident")):
            break
        if w in ("thang", "t") and i + 1 < len(words) and words[i + 1].isascii() \
                and words[i + 1].isdigit() and len(words[i + 1]) <= 2:
            nxt = words[i + 1]
            year = words[i + 3] if i + 3 < len(words) and words[i + 2] == "nam" else None
            if year is not None and year.isascii() and year.isdigit() and len(year) == 4 \
                    and 1 <= int(nxt) <= 12:
                ref["period"], i = f"{year}-{int(nxt):02d}", i + 4
            elif (p := _month_year(int(nxt), now, tz)) is not None:
                ref["period"], i = p, i + 2
            else:
                break
            continue
        if w in ("thang", "t") and i + 1 < len(words) and _MONTH.fullmatch(words[i + 1]):
            i += 1
            w = words[i]
        if (d := _DAY.fullmatch(w)) is not None:
            ref["day"], i = (int(d[3]), int(d[2]), int(d[1])), i + 1
        elif (mo := _MONTH.fullmatch(w)) is not None and 1 <= int(mo[1]) <= 12:
            year = mo[2] if len(mo[2]) == 4 else f"20{mo[2]}"
            ref["period"], i = f"{year}-{int(mo[1]):02d}", i + 1
        elif (iso := _ISO_MONTH.fullmatch(w)) is not None and 1 <= int(iso[2]) <= 12:
            ref["period"], i = f"{iso[1]}-{int(iso[2]):02d}", i + 1
        elif w.isascii() and w.isdigit():
            # past the id columns' range: no meeting of ours, refused before SQL (0 is none)
            ref["ident"], i = as_id(w) or 0, i + 1
        elif w.startswith("#") and w[1:].isascii() and w[1:].isdigit():
            ref["ident"], ref["strict"], i = as_id(w[1:]) or 0, True, i + 1  # a button's id
        else:
            break
    if not ref:
        return None
    return ref, " ".join(tokens[i:]), " ".join(tokens[:i])


def lookup(ctx: Ctx, cell_ids: Sequence[int], text: str, tz: str) -> Lookup:
    """The meetings of ``cell_ids`` the start of ``text`` names (see ``parse``)."""
    parsed = parse(text.strip(), ctx.now(), tz)
    if parsed is None:
        return Lookup(False, [], text.strip())
    ref, rest, said = parsed
    s = ctx.session
    if "ident" in ref:
        n = int(ref["ident"])  # type: ignore[call-overload]
        # A typed 1–12 is a month ("/mochamdiem 1": January), never a hidden id that no
        # screen shows; only a button's "#id" and larger numbers are ids.
        period = None if ref.get("strict") else _month_year(n, ctx.now(), tz)
        if period is None:
            m = s.get(Meeting, ref["ident"])
            if m is not None and m.cell_id in cell_ids:
                return Lookup(True, [m], rest, said)
            # an id of a meeting elsewhere or of none
            return Lookup(True, [], rest, said, foreign=m is not None or "strict" in ref)
        ref["period"] = period  # "/chamdiem 12": December, as people mean it
    stmt = select(Meeting).where(Meeting.cell_id.in_(list(cell_ids)),
                                 Meeting.status != MeetingStatus.CANCELLED.value)
    if "period" in ref:
        stmt = stmt.where(Meeting.period == ref["period"])
    if "day" in ref:
        y, mo, _day = ref["day"]  # type: ignore[misc]
        stmt = stmt.where(Meeting.period == f"{y:04d}-{mo:02d}")
    if "kind" in ref:
        stmt = stmt.where(Meeting.kind == ref["kind"])
    found = list(s.exec(stmt.order_by(Meeting.scheduled_at)))
    if "day" in ref:
        found = [m for m in found if to_local(m.scheduled_at, m.timezone).date().timetuple()[:3]
                 == ref["day"]]
    elif "kind" not in ref and "period" in ref:
        regular = [m for m in found if m.kind == MeetingKind.REGULAR.value]
        if len({m.cell_id for m in found}) == 1 and len(regular) == 1:
            found = regular  # "12/2026" is the month's regular meeting
    return Lookup(True, found, rest, said)


def step_answer(ctx: Ctx, cell_id: int, text: str, offered: Sequence[int]) -> int:
    """A form's "which meeting" step answered in words ("12/2026", "tháng 12"): the id of
    the one offered meeting the words name, as the commands accept them; refused politely
    when they name none of the offered ones."""
    org = ctx.session.get(Organisation, cell_id)
    tz = org.timezone if org else "Asia/Ho_Chi_Minh"
    look = lookup(ctx, [cell_id], text, tz)
    hits = [m.id for m in look.found if m.id in offered]
    parsed = parse(text.strip(), ctx.now(), tz)
    if not hits and len(look.found) == 1 and parsed and not {"kind", "day"} & set(parsed[0]):
        # "12/2026" is the month's regular meeting; a list without it (held already) but
        # with another meeting of that month (đột xuất) means that one
        hits = [i for i in offered if (m := ctx.session.get(Meeting, i)) is not None
                and m.period == look.found[0].period]
    if look.named and len(hits) == 1:
        return hits[0] or 0
    if look.named and hits:
        raise Invalid(_("Có nhiều buổi sinh hoạt như vậy; đồng chí chọn một buổi trong danh "
                        "sách (gửi số thứ tự)."))
    raise Invalid(_("Không có buổi “{said}” trong danh sách; đồng chí gửi số thứ tự hoặc tên "
                    "buổi như “12/2026”.").format(said=(look.said or text.strip())[:40]))


def recent(ctx: Ctx, cell_ids: Sequence[int], *, statuses: Sequence[str] = (),
           days_back: int = 100, days_ahead: int = 40) -> list[Meeting]:
    """The cells' meetings around now, newest first (the buttons offered by default)."""
    now = ctx.now()
    stmt = select(Meeting).where(Meeting.cell_id.in_(list(cell_ids)),
                                 Meeting.scheduled_at >= now - timedelta(days=days_back),
                                 Meeting.scheduled_at <= now + timedelta(days=days_ahead))
    if statuses:
        stmt = stmt.where(Meeting.status.in_(list(statuses)))
    return list(ctx.session.exec(stmt.order_by(Meeting.scheduled_at.desc()).limit(RECENT)))


def offer(ctx: Ctx, meetings: Sequence[Meeting], command: str, question: str = "") -> None:
    """Ask which meeting, as buttons that re-run ``/command`` for the one pressed."""
    assert command in COMMANDS, command
    cells = {m.cell_id for m in meetings}
    names: dict[int, str] = {}
    if len(cells) > 1:  # a name two of them share gets its parent (a phone cuts long ones)
        orgs = list(ctx.session.exec(select(Organisation).where(Organisation.id.in_(list(cells)))))
        parents = {p.id: p.name for p in ctx.session.exec(select(Organisation).where(
            Organisation.id.in_([o.parent_id for o in orgs if o.parent_id])))
            if p.kind != "bloc"}
        shared = Counter(fold(o.name) for o in orgs)
        names = {c.id or 0: cell_label(c.name, parents.get(c.parent_id))
                 if shared[fold(c.name)] > 1 else c.name for c in orgs}

    def label(m: Meeting) -> str:
        # The cell first when there are several: a phone cuts the end of a long button.
        return f"{names[m.cell_id]} — {meeting_name(m)}" if names else meeting_name(m)

    ctx.reply(question or _("Đồng chí chọn buổi sinh hoạt:"),
              column([(label(m)[:90], f"mt:{command}:{m.id}") for m in meetings]))


def choose(ctx: Ctx, cell_ids: Sequence[int], text: str, command: str, tz: str, *,
           default: Sequence[Meeting] = (), single: bool = True,
           none_text: str = "") -> tuple[Meeting, str] | None:
    """The meeting ``text`` names (and the words after it), or, when it names none, the
    only one of ``default`` (with ``single``). Otherwise it asks with buttons, says none
    fits, or refuses an id of another cell, and returns None."""
    look = lookup(ctx, cell_ids, text, tz)
    if look.foreign:
        ctx.deny(f"/{command}: meeting of another cell")
        return None
    if look.named and len(look.found) == 1:
        return look.found[0], look.rest
    if look.named and look.found:
        offer(ctx, look.found[:RECENT], command)
        return None
    if look.named:
        log.info("/%s: no meeting named %r in cells %s", command, look.said, list(cell_ids))
        others = list(default) or recent(ctx, cell_ids)
        msg = _("Không tìm thấy buổi sinh hoạt “{said}”.").format(said=look.said[:40])
        if others:
            offer(ctx, others[:RECENT], command, msg + " " + _("Đồng chí chọn một buổi:"))
        else:
            ctx.reply(msg)
        return None
    if single and len(default) == 1:
        return default[0], look.rest
    if default:
        offer(ctx, default[:RECENT], command)
        return None
    ctx.reply(none_text or _("Không có buổi sinh hoạt nào phù hợp."))
    return None


@callback("mt", who=Who.LINKED)
def _picked(ctx: Ctx, parts: list[str]) -> None:
    """A meeting button: run the command it belongs to on that meeting."""
    spec = COMMANDS.get(parts[0]) if len(parts) == 2 else None
    if spec is None or spec.who is not Who.LINKED or not parts[1].isdigit() \
            or spec.where is (Where.PRIVATE if ctx.in_group else Where.GROUP):
        ctx.reply(_("Nút này không còn hiệu lực."), toast=True)
        return
    spec.fn(ctx, [f"#{parts[1]}"], f"#{parts[1]}")
