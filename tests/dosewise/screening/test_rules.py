"""Rule packs: the shipped pack loads, bad packs fail with the file and rule named, extension works."""

from __future__ import annotations

from pathlib import Path

import pytest

from dosewise.errors import RulePackError
from dosewise.screening import Detector
from dosewise.screening.rules import SIGNALS, load_packs, squeeze_pattern


def test_default_pack_is_valid_and_readable() -> None:
    pack = load_packs()
    ids = [r.id for r in pack.rules]
    assert len(ids) == len(set(ids)) >= 40
    assert {r.signal for r in pack.rules} == set(SIGNALS)
    assert any(r.weight < 0 for r in pack.rules)
    assert all(r.views for r in pack.rules)


def _pack(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "server.yaml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("rules:\n  - {id: x.bad, signal: substance, weight: 0.2, patterns: ['(unclosed']}\n", "bad pattern"),
        ("rules:\n  - {id: x.noweight, signal: substance, patterns: ['a']}\n", "weight"),
        ("rules:\n  - {id: x.nosignal, weight: 0.2, patterns: ['a']}\n", "signal"),
        ("rules:\n  - {id: x.nopat, signal: substance, weight: 0.2}\n", "patterns"),
        ("rules:\n  - {id: x.view, signal: substance, weight: 0.2, views: [nope], patterns: ['a']}\n", "views"),
        ("rules:\n  - {id: x.sig, signal: vibes, weight: 0.2, patterns: ['a']}\n", "unknown signal"),
        ("rules:\n  - {id: offer.selling, signal: substance, weight: 0.2, patterns: ['a']}\n", "duplicate"),
        ("rules:\n  - {id: x.lookaround, signal: substance, weight: 0.2, patterns: ['(?=a)b']}\n", "bad pattern"),
        ("rules:\n  - {id: x.neg, signal: substance, weight: 0.2, negatable: true, patterns: ['a']}\n", "negatable"),
        ("rules:\n  - {id: x.negv, signal: dampener, weight: -0.2, negatable: 1, patterns: ['a']}\n", "negatable"),
    ],
)
def test_bad_pack_names_file_and_rule(tmp_path: Path, body: str, problem: str) -> None:
    path = _pack(tmp_path, body)
    with pytest.raises(RulePackError) as caught:
        Detector.build(extra_packs=[path])
    message = caught.value.user_message
    assert str(path) in message
    rule_id = body.split("id: ")[1].split(",")[0]
    assert f"rule {rule_id}" in message
    assert problem in message


def test_unreadable_or_malformed_pack(tmp_path: Path) -> None:
    with pytest.raises(RulePackError, match="cannot read"):
        Detector.build(extra_packs=[tmp_path / "missing.yaml"])
    with pytest.raises(RulePackError, match="not valid YAML"):
        Detector.build(extra_packs=[_pack(tmp_path, "rules: [\n")])


def test_extra_pack_adds_a_server_term(tmp_path: Path) -> None:
    text = "got some blue dream zaza, hmu"
    assert not Detector.build().screen(text).flagged
    path = _pack(
        tmp_path,
        "rules:\n  - id: server.zaza\n    signal: substance\n    weight: 0.3\n"
        "    views: [skeleton, squeezed]\n    patterns: ['\\bzaza\\b']\n",
    )
    verdict = Detector.build(extra_packs=[path]).screen(text)
    assert verdict.flagged
    assert "server.zaza" in {r.rule for r in verdict.reasons}


def test_a_config_pack_pattern_never_runs_on_a_backtracking_engine(tmp_path: Path) -> None:
    # `(x+x+)+y` is linear in RE2 but exponential in Python's `re` on "xxx…x" without a "y".
    path = _pack(
        tmp_path,
        "rules:\n  - id: server.evil\n    signal: substance\n    weight: 0.3\n    patterns: ['(x+x+)+y']\n",
    )
    detector = Detector.build(extra_packs=[path])
    evil = next(r for r in detector.pack.rules if r.id == "server.evil")
    assert not evil.builtin and all(r.builtin for r in detector.pack.rules if r.id != "server.evil")
    # Matched on "xxy", its span is then searched in a text where `re` would take minutes; RE2 does not.
    verdict = detector.screen("selling xxy, dm me " + "x" * 40, explain=True)
    assert "server.evil" in {r.rule for r in verdict.reasons}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\bshrooms\b", r"\bshro{1,2}ms\b"),
        (r"oo+", r"oo+"),
        (r"[ss]x", r"[ss]x"),
        (r"\p{Greek}ee", r"\p{Greek}e{1,2}"),
        (r"(?:ll)", r"(?:l{1,2})"),
        (r"\\ss", r"\\s{1,2}"),
    ],
)
def test_squeeze_pattern(pattern: str, expected: str) -> None:
    assert squeeze_pattern(pattern) == expected


def test_bad_scoring_section_is_rejected(tmp_path: Path) -> None:
    path = _pack(tmp_path, "scoring:\n  anchors: [vibes]\nrules: []\n")
    with pytest.raises(RulePackError, match="anchors"):
        Detector.build(extra_packs=[path])
