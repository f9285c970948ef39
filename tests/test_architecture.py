"""Whole-tree rules: the core never imports an adapter or a platform library; layout names stay safe."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORE = REPO / "shared" / "dosewise"
FORBIDDEN = (
    "discord",
    "slack_bolt",
    "slack_sdk",
    "dosewise_discord",
    "dosewise_slack",
    "dosewise_cli",
    "aiohttp",
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_imports_no_adapter_or_platform_library() -> None:
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        for name in imported_modules(path):
            if name.split(".")[0] in FORBIDDEN:
                offenders.append(f"{path.relative_to(REPO)} imports {name}")
    assert offenders == []
    assert len(list(CORE.rglob("*.py"))) >= 5


def test_no_module_directly_in_the_code_roots_and_no_shadowing_names() -> None:
    for root in ("shared", "bots"):
        assert [p.name for p in (REPO / root).glob("*.py")] == []
    bad = {"discord", "slack_bolt", "slack_sdk", "yaml", "utils", "responses"}
    for path in [
        *REPO.joinpath("shared").rglob("*"),
        *REPO.joinpath("bots").rglob("*"),
        *REPO.joinpath("tests").rglob("*"),
    ]:
        if "__pycache__" in path.parts:
            continue
        assert path.stem not in bad or path.suffix not in ("", ".py"), path


def test_responses_is_content_only() -> None:
    files = [p for p in (REPO / "responses").rglob("*") if p.is_file()]
    assert files, "responses/ holds the /microdosing content"
    assert all(p.suffix in (".yaml", ".yml", ".md") for p in files), files
