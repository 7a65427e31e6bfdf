"""The documentation holds together: README stays short and free of engineering diaries,
every relative link (file and #anchor) in README.md and docs/ resolves, and every chat
command the user guides name is one the bot answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import handlers  # noqa: F401  (registers every command)
from handlers.core.router import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
GUIDES = [README, *sorted((ROOT / "docs").glob("huong-dan-*.md"))]
NAVIGATION = {"huy", "cancel", "back", "quaylai"}  # taken by an open form (forms/engine.py)
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in FENCE.sub("", page.read_text(encoding="utf-8")).splitlines():
        m = re.match(r"#+\s+(.*)$", line)
        if m:
            slug = _slug(m.group(1))
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def test_readme_is_short_and_names_no_issue_or_outside_path() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    assert "issue" not in text.lower()
    assert "../" not in text


def test_docs_pages_exist_for_each_reader() -> None:
    names = {p.name for p in PAGES}
    assert {"huong-dan-dang-vien.md", "huong-dan-bi-thu.md", "huong-dan-can-bo-khoi.md",
            "trien-khai.md", "architecture.md", "performance.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    broken = []
    for link in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", link):
            continue
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        missing_anchor = bool(anchor) and target.suffix == ".md" and target.exists() \
            and anchor not in _anchors(target)
        if not target.exists() or missing_anchor:
            broken.append(link)
    assert broken == []


@pytest.mark.parametrize("page", GUIDES, ids=lambda p: p.name)
def test_guides_name_only_commands_the_bot_answers(page: Path) -> None:
    named = set(re.findall(r"(?<![\w/.:~])/([a-z][a-z0-9_]*)\b", page.read_text(encoding="utf-8")))
    assert named - set(COMMANDS) - NAVIGATION == set()


def test_deployment_guide_explains_every_configuration_key() -> None:
    """Each key of config.example.toml has a row in the table of docs/trien-khai.md."""
    import tomllib

    example = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    wanted = {(section, key) for section, value in example.items() if isinstance(value, dict)
              for key in value} | {("", key) for key, value in example.items()
                                   if not isinstance(value, dict)}
    explained: set[tuple[str, str]] = set()
    for row in (ROOT / "docs" / "trien-khai.md").read_text(encoding="utf-8").splitlines():
        if not row.startswith("| `"):
            continue
        first = row.split("|")[1]
        section = m.group(1) if (m := re.search(r"\[(\w+)\]", first)) else ""
        for token in re.findall(r"`([^`]+)`", first):
            explained.add((section, re.sub(r"^\[\w+\]\s*", "", token).strip()))
    assert wanted - explained == set()
