"""Broken content trees fail at load with `FILE: key: what is wrong` problems, all of them at once."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from dosewise.content import Content
from dosewise.errors import ContentError, DosewiseError
from dosewise.models import ReplyKind

MINIMAL = Path(__file__).resolve().parents[1] / "data" / "content" / "minimal"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "responses"
    shutil.copytree(MINIMAL, root)
    return root


def _edit(root: Path, name: str, change: Callable[[str], str]) -> Path:
    path = root / "microdosing" / name
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    return path


def _problems(root: Path) -> list[str]:
    with pytest.raises(ContentError) as info:
        Content.load(root)
    assert isinstance(info.value, DosewiseError)
    assert info.value.user_message == "\n".join(info.value.problems)
    return info.value.problems


def test_minimal_fixture_is_valid(tree: Path) -> None:
    content = Content.load(tree)
    assert [c.slug for c in content.topics()] == ["alpha-topic", "beta-topic"]
    reply = content.answer("alpha")
    assert reply.kind is ReplyKind.ANSWER
    assert [s.url for s in reply.sources] == ["https://doi.org/10.1000/one", "https://example.org/two"]
    assert reply.sources[0].label.startswith("Doe et al. (2020). One title. Journal One.")
    assert any(s.heading == "If you need help now" and "000-TEST" in s.body for s in reply.sections)
    assert reply.footer == "Test disclaimer, not advice."


def test_missing_summary(tree: Path) -> None:
    _edit(tree, "alpha-topic.yaml", lambda t: t.replace("summary: A short alpha summary.\n", ""))
    assert _problems(tree) == ["responses/microdosing/alpha-topic.yaml: summary: missing"]


def test_summary_too_long(tree: Path) -> None:
    _edit(tree, "beta-topic.yaml", lambda t: t.replace("A short beta summary.", "word " * 70))
    (problem,) = _problems(tree)
    assert problem.startswith("responses/microdosing/beta-topic.yaml: summary: too long: 349 characters")


def test_no_sources(tree: Path) -> None:
    _edit(tree, "beta-topic.yaml", lambda t: t.split("sources:\n  - id: one")[0] + "sources: []\n")
    problems = _problems(tree)
    assert "responses/microdosing/beta-topic.yaml: sources: needs at least 2 sources (has 0)" in problems
    # The points now cite ids that no longer exist: reported too, not hidden behind the first problem.
    assert any("evidence[0].sources: unknown source id 'one'" in p for p in problems)


def test_bad_yaml_syntax_names_file_and_line(tree: Path) -> None:
    _edit(tree, "alpha-topic.yaml", lambda t: t.replace("claims:\n  - Alpha is great.", "claims: [unclosed\n"))
    (problem,) = _problems(tree)
    assert problem.startswith("responses/microdosing/alpha-topic.yaml: line ")
    assert "invalid YAML syntax" in problem


def test_unknown_topic_in_order(tree: Path) -> None:
    _edit(tree, "_index.yaml", lambda t: t.replace("  - beta-topic\n", "  - beta-topic\n  - gamma-topic\n"))
    assert _problems(tree) == [
        "responses/microdosing/_index.yaml: order: unknown topic 'gamma-topic' (no gamma-topic.yaml)"
    ]


def test_topic_missing_from_order(tree: Path) -> None:
    _edit(tree, "_index.yaml", lambda t: t.replace("  - beta-topic\n", ""))
    assert _problems(tree) == ["responses/microdosing/beta-topic.yaml: slug: not listed in _index.yaml order"]


def test_all_problems_are_collected_across_files(tree: Path) -> None:
    _edit(tree, "alpha-topic.yaml", lambda t: t.replace("summary: A short alpha summary.\n", ""))
    _edit(tree, "beta-topic.yaml", lambda t: t.replace("bottom_line: Beta bottom line.\n", "bottom_lne: x\n"))
    _edit(tree, "_index.yaml", lambda t: t.replace("disclaimer: Test disclaimer, not advice.\n", ""))
    problems = _problems(tree)
    assert "responses/microdosing/_index.yaml: disclaimer: missing or empty" in problems
    assert "responses/microdosing/alpha-topic.yaml: summary: missing" in problems
    assert "responses/microdosing/beta-topic.yaml: bottom_line: missing" in problems
    assert "responses/microdosing/beta-topic.yaml: bottom_lne: unknown key (typo?)" in problems


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("doi: 10.1000/one", "doi: https://doi.org/10.1000/one", "sources[0].doi: not a bare DOI"),
        ("url: https://example.org/two", "url: http://example.org/two", "sources[1].url: must be an https:// link"),
        ("    doi: 10.1000/one\n", "", "sources[0]: needs a doi or a url"),
        ("    journal: Journal One\n", "", "sources[0].journal: missing"),
        ("    sources: [two]", "    sources: [three]", "risks[0].sources: unknown source id 'three'"),
        ("    sources: [two]", "    sources: []", "sources: 'two' is never cited"),
        ("slug: alpha-topic", "slug: alpha", "slug: 'alpha' does not match the file name 'alpha-topic'"),
        ("aliases: [alpha, first topic]", "aliases: [Alpha]", "aliases[0]: must be lower-case"),
        ("aliases: [alpha, first topic]", "aliases: [beta]", "aliases: 'beta' is already used by topic"),
        ("reviewed: 2026-11-24", "reviewed: last tuesday", "reviewed: not a date"),
        ("mental_health: true", "mental_health: sometimes", "mental_health: must be true or false"),
        ("title: Alpha topic", "title: Alpha topic\ntitle: Again", "duplicate key 'title'"),
        ("keywords: [alphabet]", "keywords: [alphabet, 000]", "keywords[1]: must be text"),
    ],
)
def test_field_problems_name_file_and_key(tree: Path, old: str, new: str, expected: str) -> None:
    _edit(tree, "alpha-topic.yaml", lambda t: t.replace(old, new, 1))
    problems = _problems(tree)
    assert any(p.startswith("responses/microdosing/") and expected in p for p in problems), problems


def test_missing_folder_and_index(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="folder: not found"):
        Content.load(tmp_path / "nowhere")
    (tmp_path / "responses" / "microdosing").mkdir(parents=True)
    assert _problems(tmp_path / "responses") == ["responses/microdosing/_index.yaml: file: missing"]


def test_bad_crisis_line(tree: Path) -> None:
    _edit(tree, "_index.yaml", lambda t: t.replace("    contact: call 000-TEST\n", ""))
    assert _problems(tree) == [
        "responses/microdosing/_index.yaml: crisis_lines[0]: needs region, name and contact as text"
    ]
