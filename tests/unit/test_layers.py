"""The layers import downwards only: models below domain, domain below auth, the API and the web
pages (docs/architecture.md). Read from the source, so a function-local import counts too."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "referral_service"

# Each layer, and the parts of the package above it that it must not import.
ABOVE = {
    "models": ("domain", "auth", "api", "web", "schemas"),
    "domain": ("auth", "api", "web", "schemas"),
}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # ``from referral_service import auth`` names a part of the package too.
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("layer", sorted(ABOVE))
def test_layer_imports_nothing_above_it(layer: str) -> None:
    sources = sorted((PACKAGE / layer).glob("*.py"))
    assert sources
    forbidden = tuple(f"referral_service.{part}" for part in ABOVE[layer])
    wrong = {
        f"{path.name}: {name}"
        for path in sources
        for name in imported_modules(path)
        if name in forbidden or name.startswith(tuple(f"{part}." for part in forbidden))
    }
    assert not wrong, sorted(wrong)


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from referral_service.auth import scopes\n")
    assert "referral_service.auth" in imported_modules(module)
