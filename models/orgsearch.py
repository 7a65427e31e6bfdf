"""Selecting an organisation by what a person types: a name, "name — parent", or a path.

Same-name cells are common ("Chi bộ Văn phòng Sở" under many departments), so a selector
accepts the parent after a dash or a slash, and the materialised path ("/1/7/23/") picks
exactly one.
"""

from __future__ import annotations

import re

from sqlmodel import Session, select

from models.org import Organisation

SEPARATORS = re.compile(r"\s+[—–-]\s+|\s*/\s*(?=\D)")


def _fold(text: str) -> str:
    from models.text import fold

    return fold(text)


def find_orgs(session: Session, text: str, kinds: tuple[str, ...] | None = None) \
        -> list[Organisation]:
    """Organisations matching ``text``: an exact path, else "name" or "name — parent"
    (exact folded names win over partial ones)."""
    text = text.strip()
    q = select(Organisation).order_by(Organisation.path)
    if kinds:
        q = q.where(Organisation.kind.in_(kinds))
    if re.fullmatch(r"/(\d+/)+", text):
        return list(session.exec(q.where(Organisation.path == text)))
    name, _sep, parent = (p.strip() for p in _split(text))
    orgs = list(session.exec(q))
    parents = {o.id: o for o in session.exec(select(Organisation))}

    def parent_ok(o: Organisation) -> bool:
        if not parent:
            return True
        p = parents.get(o.parent_id)
        return p is not None and _fold(parent) in _fold(p.name)

    exact = [o for o in orgs if _fold(o.name) == _fold(name) and parent_ok(o)]
    if exact:
        return exact
    return [o for o in orgs if _fold(name) in _fold(o.name) and parent_ok(o)]


def _split(text: str) -> tuple[str, str, str]:
    m = SEPARATORS.search(text)
    if m is None:
        return text, "", ""
    return text[:m.start()], m.group(0), text[m.end():]


def describe(session: Session, org: Organisation) -> str:
    """"Chi bộ Văn phòng Sở — Đảng bộ Sở Nội vụ" (the name with its parent)."""
    parent = session.get(Organisation, org.parent_id) if org.parent_id else None
    return f"{org.name} — {parent.name}" if parent else org.name
