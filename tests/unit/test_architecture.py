"""Project rules that code review alone would miss: import direction, no floats, the API."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import incentive
from tests.helpers import ROOT

PACKAGE = ROOT / "incentive"
# Each layer may import only from the layers listed for it (and the standard library).
ALLOWED = {
    "_types": set(),
    "errors": set(),
    "money": set(),
    "calendar": set(),
    "sorting": set(),
    "dsl": {"_types", "errors", "money", "calendar", "dsl"},
    "engine": {"_types", "errors", "money", "calendar", "sorting", "dsl", "engine"},
    "explain": {"_types", "errors", "money", "sorting", "engine", "explain"},
    "api": {"errors", "money", "dsl", "engine", "explain"},
    "cli": {"errors", "money", "dsl", "engine", "explain", "api"},
    "__init__": {"errors", "money", "dsl", "engine", "explain", "api"},
}


def _layer(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def test_imports_only_go_down_the_pipeline() -> None:
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        layer = _layer(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] != "incentive" or len(parts) == 1:
                    continue
                if parts[1] not in ALLOWED[layer]:
                    wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_no_float_on_any_path() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in PACKAGE.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bfloat\(", line)
    ]
    assert offenders == []


def test_public_names_are_listed_sorted_and_importable() -> None:
    assert incentive.__all__ == sorted(incentive.__all__)
    for name in incentive.__all__:
        assert getattr(incentive, name) is not None
    assert (PACKAGE / "py.typed").exists()


def test_every_module_opens_with_a_docstring() -> None:
    missing = [
        str(path.relative_to(ROOT))
        for path in PACKAGE.rglob("*.py")
        if path.stat().st_size and ast.get_docstring(ast.parse(path.read_text("utf-8"))) is None
    ]
    assert missing == []
