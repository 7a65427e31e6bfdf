"""Finding the member a typed name means, diacritics optional ("Ha", "Thu Hà", "3")."""

from __future__ import annotations

from difflib import SequenceMatcher

from models.member import Member
from models.text import as_id, fold


def _likeness(wanted: str, name: str) -> tuple[int, float]:
    words, given = set(wanted.split()), name.split()
    shared = sum(2 if i == len(given) - 1 else 1 for i, w in enumerate(given) if w in words)
    return -shared, -SequenceMatcher(None, wanted, name).ratio()


def match_member(members: list[Member], text: str) -> tuple[Member | None, list[Member]]:
    """(the one member ``text`` names, or None and the likeliest candidates, best first).

    A number is the member's place in the list; otherwise the full name, or the end of it
    (given name, or middle and given name), or a unique part of it, diacritics ignored.
    """
    n = as_id(text.strip())
    if n is not None:
        return (members[n - 1], []) if n <= len(members) else (None, [])
    wanted = fold(text)
    if not wanted:
        return None, []
    names = {m.id: fold(m.full_name) for m in members}
    for rule in (lambda nm: nm == wanted,
                 lambda nm: nm.endswith(" " + wanted),
                 lambda nm: f" {wanted} " in f" {nm} "):
        hits = [m for m in members if rule(names[m.id])]
        if len(hits) == 1:
            return hits[0], []
        if len(hits) > 1:
            return None, hits
    ranked = sorted(members, key=lambda m: _likeness(wanted, names[m.id]))
    close = [m for m in ranked if _likeness(wanted, names[m.id])[0] < 0
             or -_likeness(wanted, names[m.id])[1] >= 0.5]
    return None, close[:5]
