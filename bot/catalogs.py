"""Extract, update and compile the gettext catalogues (``chibot i18n`` / CI step).

Message ids are Vietnamese: the vi catalogue maps each id to itself, the en catalogue
translates it. ``check`` lists ids that have no English translation yet, and Vietnamese
texts with an English word of the project's vocabulary left in them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("bot", "handlers", "models")
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
# The web view's Jinja2 templates call ``_()`` too (bot/web/templates).
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract"),
           ("**/templates/**.svg", "jinja2.ext:babel_extract")]


def extract() -> Catalog:
    template = Catalog(project="chibot", fuzzy=False)
    for src in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
                ROOT / src, method_map=METHODS, keywords=KEYWORDS):
            template.add(message, None, [(f"{src}/{filename}", lineno)],
                         auto_comments=comments, context=context)
    return template


def _po(locale: str, locales_dir: Path) -> Path:
    return locales_dir / locale / "LC_MESSAGES" / "messages.po"


def _read(path: Path, locale: str) -> Catalog:
    if not path.is_file():
        return Catalog(locale=locale, project="chibot", fuzzy=False)
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def update(locales_dir: Path = ROOT / "locales") -> None:
    for locale in ("vi", "en"):
        path = _po(locale, locales_dir)
        catalog = _read(path, locale)
        # A fresh template each time: update() shares message objects with it.
        catalog.update(extract(), no_fuzzy_matching=True)
        catalog.obsolete.clear()
        if locale == "vi":
            for msg in catalog:
                if msg.id and not msg.string:
                    msg.string = msg.id
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, no_location=True, sort_output=True, width=100)


def compile_all(locales_dir: Path = ROOT / "locales") -> list[Path]:
    written = []
    for locale in ("vi", "en"):
        po = _po(locale, locales_dir)
        catalog = _read(po, locale)
        mo = po.with_suffix(".mo")
        with mo.open("wb") as fh:
            write_mo(fh, catalog)
        written.append(mo)
    return written


def untranslated(locale: str = "en", locales_dir: Path = ROOT / "locales") -> list[str]:
    catalog = _read(_po(locale, locales_dir), locale)
    have = {m.id: m.string for m in catalog if m.id}
    missing: list[str] = []
    for msg in extract():
        if not msg.id:
            continue
        s = have.get(msg.id)
        if not s or (isinstance(s, tuple) and not all(s)):
            missing.append(msg.id if isinstance(msg.id, str) else msg.id[0])
    return missing


# English words that must not be left in a Vietnamese text ("Đồng chí đang minutes dở"):
# a small list of the project's own vocabulary, matched as whole words outside {fields},
# /commands and links.
ENGLISH_WORDS = ("minutes", "minute", "form", "forms", "score", "scoring", "rubric", "meeting",
                 "meetings", "draft", "agenda", "rollcall", "roll call", "override", "criterion",
                 "status", "report", "deadline", "task", "tasks", "resolution", "secretary",
                 "deputy", "officer", "follower", "member", "members", "fee", "fees", "cell")
_SKIP = re.compile(r"\{[^{}]*\}|/[a-z_]+|https?://\S+")
_WORDS = re.compile(r"\b(" + "|".join(sorted(ENGLISH_WORDS, key=len, reverse=True))
                    + r")\b", re.IGNORECASE)
_JOINED = re.compile(r"(\w+_\w+)")  # "không_tán_thành": a code, not Vietnamese


def english_left() -> list[tuple[str, str]]:
    """(msgid, word) for each Vietnamese text holding an English word of ENGLISH_WORDS or
    words joined by underscores."""
    found = []
    for msg in extract():
        ids = [msg.id] if isinstance(msg.id, str) else list(msg.id or ())
        for text in ids:
            plain = _SKIP.sub(" ", text or "")
            hit = _WORDS.search(plain) or _JOINED.search(plain)
            if hit:
                found.append((text, hit.group(1)))
    return found


def main(args: Iterable[str]) -> int:
    args = list(args)
    if "update" in args:
        update()
    if "check" in args:
        missing = untranslated()
        for m in missing:
            print("untranslated:", m)
        english = english_left()
        for text, word in english:
            print(f"English word “{word}” in a Vietnamese text:", text)
        if missing or english:
            return 1
    for mo in compile_all():
        print("compiled", mo.relative_to(ROOT))
    return 0
