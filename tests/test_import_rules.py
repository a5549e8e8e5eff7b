"""Every import follows docs/design.md: the packages table and the cart's rooms table.

The tables are read from the design doc itself, so changing an arrow means changing the
doc that people read, and a wrong import fails here with the module, the line and the
rule it breaks. Imports inside functions count too: a lazy import is still an arrow.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DESIGN = ROOT / "docs" / "design.md"
UNCHECKED = {"tests", "bench", "docs"}  # may import anything (the doc's last row)


@dataclass(frozen=True)
class Allowed:
    """What a package (or room) may import: whole packages, and some only in part."""

    whole: frozenset[str]
    only: dict[str, frozenset[str]]  # package -> the modules of it that may be imported

    def permits(self, target: str, module: str) -> bool:
        if target in self.whole:
            return True
        parts = self.only.get(target)
        return parts is not None and any(
            module == part or module.startswith(part + ".") for part in parts
        )


def _table(heading: str) -> list[list[str]]:
    """The rows (cells stripped) of the first Markdown table after `heading`."""
    text = DESIGN.read_text(encoding="utf-8")
    start = text.index(heading)
    rows: list[list[str]] = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    return rows[2:]  # past the header and the --- line


def _name(cell: str) -> str:
    return cell.strip("`").rstrip("/").split(".")[-1]


def _allowed(cell: str, every: set[str], item_names: set[str]) -> Allowed:
    cell = cell.strip()
    if cell in {"nothing of ours", "no room", ""}:
        return Allowed(frozenset(), {})
    but = re.fullmatch(r"every(?:thing| room)(?: but (.+))?", cell)
    if but:
        excluded = {_name(word) for word in re.findall(r"[a-z_]+", but.group(1) or "")}
        return Allowed(frozenset(every - excluded), {})
    whole: set[str] = set()
    only: dict[str, frozenset[str]] = {}
    for item in re.split(r",\s*(?![^()]*\))", cell):
        match = re.fullmatch(r"([a-z_]+)\s*(?:\((.*)\))?", item.strip())
        assert match and match.group(1) in item_names, f"design.md: cannot read {item!r}"
        if match.group(2):
            only[match.group(1)] = frozenset(re.findall(r"`([a-z_.]+)`", match.group(2)))
        else:
            whole.add(match.group(1))
    return Allowed(frozenset(whole), only)


def _rules(heading: str) -> dict[str, Allowed]:
    rows = [row for row in _table(heading) if not row[0].startswith("`tests/")]
    names = {_name(row[0]) for row in rows}
    return {_name(row[0]): _allowed(row[2], names, names) for row in rows}


PACKAGES = _rules("## Layout: rooms and the only allowed arrows")
ROOMS = _rules("### The cart's rooms")


@dataclass(frozen=True)
class Import:
    source: Path
    line: int
    module: str  # the absolute dotted name imported


def _imports(path: Path, code: str | None = None) -> list[Import]:
    """Every module `path` imports, wherever in the file; relative imports resolved."""
    text = path.read_text(encoding="utf-8") if code is None else code
    package = list(path.relative_to(ROOT).with_suffix("").parts)[:-1]
    found: list[Import] = []
    for node in ast.walk(ast.parse(text, filename=str(path))):
        if isinstance(node, ast.Import):
            found += [Import(path, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found += [Import(path, node.lineno, _target(module, a.name)) for a in node.names]
    return found


def _target(module: str, name: str) -> str:
    """`from inbox import log` imports the module inbox.log; `from inbox.log import x`,
    inbox.log."""
    inner = ROOT.joinpath(*module.split("."), name)
    return f"{module}.{name}" if inner.with_suffix(".py").exists() or inner.is_dir() else module


def _modules() -> list[Path]:
    return sorted(
        path
        for name in PACKAGES
        for path in (ROOT / name).rglob("*.py")
        if ".venv" not in path.parts
    )


def _breaks(imp: Import) -> str | None:
    """Why this import breaks a rule, or None when the design doc allows it."""
    source = imp.source.relative_to(ROOT).with_suffix("").parts
    target = imp.module.split(".")
    if target[0] not in PACKAGES:
        return None  # the standard library or a dependency
    if target[0] != source[0]:
        if PACKAGES[source[0]].permits(target[0], imp.module):
            return None
        return f"{source[0]}/ may not import {imp.module}"
    if source[0] != "cart" or len(source) < 2 or len(target) < 2:
        return None
    here, there = source[1], target[1]
    if here == "__init__" or here == there:
        return None
    if ROOMS[here].permits(there, imp.module):
        return None
    return f"the cart room {here} may not import {imp.module}"


def test_the_design_doc_names_every_package_and_room() -> None:
    on_disk = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert on_disk - UNCHECKED <= set(PACKAGES), "add the new package to docs/design.md"
    rooms = {
        p.stem
        for p in (ROOT / "cart").iterdir()
        if (p.suffix == ".py" or (p / "__init__.py").exists()) and p.name != "__init__.py"
    }
    assert rooms == set(ROOMS), "docs/design.md's rooms table and cart/ differ"


def test_every_import_follows_the_design_doc() -> None:
    broken = [
        f"{imp.source.relative_to(ROOT)}:{imp.line}: {reason}"
        for path in _modules()
        for imp in _imports(path)
        if (reason := _breaks(imp)) is not None
    ]
    assert broken == [], "imports against docs/design.md:\n" + "\n".join(broken)


@pytest.mark.parametrize(
    ("source", "module", "allowed"),
    [
        ("inbox/worker.py", "cart.orders.claims", False),
        ("inbox/worker.py", "outbox.publish", False),
        ("payments/sumup.py", "vocab.money", False),
        ("cart/orders/claims.py", "inbox.registry", False),
        ("cart/admin/queries.py", "inbox.models", False),
        ("cart/admin/queries.py", "inbox.log", True),
        ("outbox/followers.py", "actor.incoming", True),
        ("demo/market.py", "service.app", False),
        ("service/app.py", "cart.web.shop", True),
        ("cart/catalog/mirror.py", "cart.basket.lines", False),
        ("cart/web/shop.py", "cart.admin.queries", False),
        ("cart/admin/queries.py", "cart.web.visit", True),
        ("cart/money.py", "cart.exceptions", True),
        ("cart/exceptions.py", "cart.money", False),
    ],
)
def test_the_rules_read_from_the_doc_catch_a_wrong_arrow(
    source: str, module: str, allowed: bool
) -> None:
    assert (_breaks(Import(ROOT / source, 1, module)) is None) is allowed


def test_a_relative_or_in_function_import_is_seen() -> None:
    code = "def f():\n    from outbox import publish\n    from . import registry\n"
    found = _imports(ROOT / "inbox" / "probe.py", code)
    assert [imp.module for imp in found] == ["outbox.publish", "inbox.registry"]
    assert _breaks(found[0]) is not None and _breaks(found[1]) is None
