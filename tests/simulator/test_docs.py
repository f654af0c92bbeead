"""docs/simulator.md's fidelity table cites tests by name: every one it cites must exist, and
every SimulatorConfig field must be documented."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

from autodl_async.simulator import SimulatorConfig

ROOT = Path(__file__).parent.parent.parent
DOC = ROOT / "docs" / "simulator.md"
CITED = re.compile(r"`((?:tests/)?[\w/]*test_\w+\.py)::(test_\w+)(?:\[[^\]]*\])?`")


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def _resolve(cited: str) -> Path:
    if cited.startswith("tests/"):
        return ROOT / cited
    return ROOT / "tests" / "simulator" / cited


def test_every_cited_test_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    # Rows that name their file once (`tests/simulator/test_faults.py` unless noted).
    text = re.sub(r"(?<![\w/.:])`(test_\w+)(\[[^\]]*\])?`", r"`test_faults.py::\1\2`", text)
    cited = CITED.findall(text)
    assert len(cited) > 100
    missing = [f"{f}::{name}" for f, name in cited if name not in _test_names(_resolve(f))]
    assert missing == []


def test_every_config_field_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    undocumented = [
        f.name for f in dataclasses.fields(SimulatorConfig) if f"| `{f.name}`" not in text
    ]
    # host/port and max_page_size/max_replicas share a row.
    assert set(undocumented) <= {"port", "max_replicas"}
    assert "`host`, `port`" in text
    assert "`max_page_size`, `max_replicas`" in text
