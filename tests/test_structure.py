"""Layering rules that keep the code base mergeable: no import circles between the
project's modules (lazy imports inside functions count too), adapters never import the
handlers, and every import points down: bot -> handlers -> models."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "models")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # "from handlers.year import flags" depends on handlers.year.flags, not on the
                # package's __init__ (which only lists the stories to register them).
                subs = [f"{node.module}.{a.name}" for a in node.names]
                targets = [s for s in subs if s in modules] or [node.module]
            for t in targets:
                if t in modules and t != name and not name.startswith(t + "."):
                    graph[name].add(t)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_circles() -> None:
    assert _cycles(_graph()) == []


def test_adapters_never_import_handlers() -> None:
    graph = _graph()
    bad = {m: sorted(t for t in deps if t.split(".")[0] == "handlers")
           for m, deps in graph.items() if m.startswith("bot.platforms")}
    assert {m: d for m, d in bad.items() if d} == {}


LAYERS = {"bot": 2, "handlers": 1, "models": 0}


def test_every_import_points_down() -> None:
    """bot (the shell) -> handlers (the conversation) -> models (the data and the floor
    both upper floors stand on): nothing imports a floor above its own."""
    graph = _graph()
    up = {m: sorted(t for t in deps if LAYERS[t.split(".")[0]] > LAYERS[m.split(".")[0]])
          for m, deps in graph.items()}
    assert {m: d for m, d in up.items() if d} == {}


def test_handler_packages_stay_small() -> None:
    """Features live in packages named for what users do, each a handful of modules
    (DESIGN.md: about a dozen at most), and no module grows into two stories."""
    handlers = ROOT / "handlers"
    loose = sorted(p.name for p in handlers.glob("*.py") if p.name != "__init__.py")
    assert loose == []
    for pkg in (p for p in handlers.iterdir() if (p / "__init__.py").exists()):
        modules = [p for p in pkg.glob("*.py") if p.name != "__init__.py"]
        assert len(modules) <= 12, pkg.name
        assert (pkg / "__init__.py").read_text(encoding="utf-8").startswith('"""'), pkg.name
    too_long = {str(p.relative_to(ROOT)): n for pkg in PACKAGES
                for p in (ROOT / pkg).rglob("*.py")
                if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450}
    assert too_long == {}
