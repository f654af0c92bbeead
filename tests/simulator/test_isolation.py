"""The simulator must not share code with the SDK, so the two cannot share a wire mistake."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import autodl_async.simulator as simulator_package

PACKAGE = Path(simulator_package.__file__).parent
ALLOWED_THIRD_PARTY = {"aiohttp", "msgspec", "anyio"}


def _imports(path: Path) -> list[tuple[int, str]]:
    """(relative level, module) for every import in `path`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(0, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or ""))
    return found


def test_simulator_imports_nothing_from_the_sdk() -> None:
    sources = sorted(PACKAGE.glob("*.py"))
    assert len(sources) > 10
    for path in sources:
        for level, module in _imports(path):
            assert level <= 1, f"{path.name} reaches outside the simulator: {'.' * level}{module}"
            if level == 0 and module.startswith("autodl_async"):
                assert module.startswith("autodl_async.simulator"), (path.name, module)


def test_simulator_uses_only_its_allowed_dependencies() -> None:
    for path in PACKAGE.glob("*.py"):
        for level, module in _imports(path):
            root = module.split(".")[0]
            if level == 0 and root not in sys.stdlib_module_names:
                assert root in ALLOWED_THIRD_PARTY, (path.name, module)
