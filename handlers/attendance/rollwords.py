"""Reading a roll-call correction as a secretary types it.

Letter codes ("3 v ốm, 5 k, 7-9 c", "* c") and words, accents or none: "6 vắng đi học",
"7 muộn", "Hạnh vắng", "3, 7 có mặt", "tất cả có mặt", "tất cả trừ 3, 7". Each item is
read on its own: the items understood are applied, the others come back by name so only
they are typed again (the whole list is never re-sent for one typo).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from models.attendance import Presence
from models.i18n import _
from models.member import Member
from models.text import fold

UNKNOWN = "?"
Marks = dict[str, list[str | None]]

# Folded status phrases, longest first so "vang khong ly do" wins over "vang".
_ABSENT = "absent"  # "vắng" alone: excused when a reason is known, else unexcused
STATUS_WORDS: list[tuple[str, str]] = sorted([
    ("c", Presence.PRESENT.value), ("co mat", Presence.PRESENT.value),
    ("co", Presence.PRESENT.value), ("di hop", Presence.PRESENT.value),
    ("m", Presence.LATE.value), ("muon", Presence.LATE.value),
    ("den muon", Presence.LATE.value), ("di muon", Presence.LATE.value),
    ("tre", Presence.LATE.value), ("den tre", Presence.LATE.value),
    ("v", Presence.EXCUSED.value), ("vang co ly do", Presence.EXCUSED.value),
    ("vang co phep", Presence.EXCUSED.value), ("co phep", Presence.EXCUSED.value),
    ("k", Presence.UNEXCUSED.value), ("vang khong ly do", Presence.UNEXCUSED.value),
    ("khong ly do", Presence.UNEXCUSED.value), ("vang kld", Presence.UNEXCUSED.value),
    ("kld", Presence.UNEXCUSED.value), ("vang khong phep", Presence.UNEXCUSED.value),
    ("vang", _ABSENT), ("nghi", _ABSENT),
], key=lambda p: -len(p[0].split()))
ALL_PRESENT = ("tat ca co mat", "tat ca", "tat ca deu co mat", "ca chi bo co mat",
               "du ca", "du tat ca", "co mat tat ca", "tat ca c", "all")
_ALL_BUT = re.compile(r"^(?:tat ca|ca chi bo)(?: deu)?(?: co mat)? (?:tru|tru ra|ngoai tru) (.+)$")
_NUMS = re.compile(r"^\d{1,4}(?:\s*-\s*\d{1,4})?$")


@dataclass
class RollEdit:
    """What one message did to the marks."""

    marks: Marks
    lines: set[int] = field(default_factory=set)  # 1-based rows changed
    failed: list[str] = field(default_factory=list)  # the items not understood, with why


def _rows(target: str, n: int) -> list[int] | None:
    """0-based rows a number or range names; None when out of 1..n."""
    lo, _sep, hi = target.replace(" ", "").partition("-")
    a, b = int(lo), int(hi or lo)
    return list(range(a - 1, b)) if 1 <= a <= b <= n else None


def _by_name(words: str, members: list[Member]) -> list[int]:
    """Rows of the members whose folded name ends with ``words`` ("hanh", "thi hanh")."""
    return [i for i, m in enumerate(members)
            if fold(m.full_name) == words or fold(m.full_name).endswith(" " + words)]


def _split(folded: list[str]) -> tuple[int, str, int] | None:
    """(number of target words, status, number of status words) of an item's folded
    words; None when no status word follows a target."""
    for i in range(1, len(folded)):
        for phrase, status in STATUS_WORDS:
            words = phrase.split()
            if folded[i:i + len(words)] == words:
                return i, status, len(words)
    return None


def apply_roll_text(text: str, members: list[Member], marks: Marks) -> RollEdit:
    """Read ``text`` against the numbered ``members``; never raises on bad input."""
    edit = RollEdit(dict(marks))
    n = len(members)

    def mark(rows: list[int], status: str, reason: str) -> None:
        for i in rows:
            key = str(members[i].id)
            _old, old_reason = edit.marks.get(key, [UNKNOWN, None])
            st = status
            if status == _ABSENT:
                st = Presence.EXCUSED.value if (reason or old_reason) else \
                    Presence.UNEXCUSED.value
            keep = old_reason if st == Presence.EXCUSED.value else None
            edit.marks[key] = [st, reason[:300] or keep]
            edit.lines.add(i + 1)

    pending: list[int] = []  # bare numbers waiting for the status of the next item
    for raw in (p.strip() for p in re.split(r"[;\n]+", text) if p.strip()):
        f = fold(raw)
        if f in ALL_PRESENT:
            mark(list(range(n)), Presence.PRESENT.value, "")
            continue
        but = _ALL_BUT.match(f)
        items = [p.strip() for p in raw.split(",") if p.strip()]
        if but:
            # "tất cả trừ 3, 7": everyone present but the numbers listed, who are absent
            # (with the reason they gave, if any); items after the numbers read as usual.
            excluded: list[int] = []
            head = fold(items[0])
            rest_of_head = _ALL_BUT.match(head)
            # the words after "trừ" as typed (a reason keeps its accents), not folded
            kept = len(rest_of_head.group(1).split()) if rest_of_head else 0
            first = " ".join(items[0].split()[-kept:]) if kept else ""
            rest = [first, *items[1:]]
            while rest and (_NUMS.match(fold(rest[0])) or _by_name(fold(rest[0]), members)):
                token = fold(rest.pop(0))
                rows = _rows(token, n) if _NUMS.match(token) else _by_name(token, members)
                if not rows or (not _NUMS.match(token) and len(rows) != 1):
                    edit.failed.append(_("“{item}”: không có đồng chí này trong danh sách "
                                         "(1–{n}).").format(item=token, n=n))
                    continue
                excluded += rows
            mark([i for i in range(n) if i not in excluded], Presence.PRESENT.value, "")
            mark(excluded, _ABSENT, "")
            items = rest
        for item in items:
            words = item.split()
            folded = [fold(w) for w in words]
            if len(folded) == 1 and _NUMS.match(folded[0]):
                rows = _rows(folded[0], n)
                if rows is None:
                    edit.failed.append(_("“{item}”: số thứ tự phải từ 1 đến {n}.").format(
                        item=item[:40], n=n))
                else:
                    pending += rows
                continue
            found = _split(folded)
            if found is None:
                edit.failed.append(_("“{item}”: không hiểu.").format(item=item[:40]))
                continue
            k, status, status_len = found
            target = " ".join(folded[:k])
            reason = " ".join(words[k + status_len:])
            if target == "*":
                rows = [i for i, m in enumerate(members)
                        if edit.marks.get(str(m.id), [UNKNOWN])[0] == UNKNOWN]
            elif _NUMS.match(target):
                found_rows = _rows(target, n)
                if found_rows is None:
                    edit.failed.append(_("“{item}”: số thứ tự phải từ 1 đến {n}.").format(
                        item=item[:40], n=n))
                    continue
                rows = found_rows
            else:
                rows = _by_name(target, members)
                if len(rows) != 1:
                    edit.failed.append(
                        (_("“{item}”: có {k} đồng chí trùng tên này; xin ghi số thứ tự.")
                         if rows else _("“{item}”: không hiểu (không có số thứ tự hay tên "
                                        "này trong danh sách)."))
                        .format(item=item[:40], k=len(rows)))
                    continue
            rows = pending + rows
            pending = []
            if status == Presence.EXCUSED.value and not reason and not all(
                    edit.marks.get(str(members[i].id), [None, None])[1] for i in rows):
                edit.failed.append(_("“{item}”: vắng có lý do cần ghi lý do, ví dụ “3 vắng "
                                     "đi công tác”.").format(item=item[:40]))
                continue
            mark(rows, status, reason)
    if pending:
        edit.failed.append(_("“{item}”: thiếu có mặt / vắng / muộn sau số thứ tự.").format(
            item=", ".join(str(i + 1) for i in pending)))
    return edit
