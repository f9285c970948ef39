"""`dosewise scan` and `dosewise eval` through the real entry point: in a subprocess, or via main() for parsing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dosewise_cli.main import main

DEV_SET = Path(__file__).resolve().parents[1] / "data" / "dev_set.jsonl"
ROOT = Path(__file__).resolve().parents[2]


def dosewise(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DOSEWISE_CONFIG"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "shared"), str(ROOT / "bots")])
    return subprocess.run(
        [sys.executable, "-m", "dosewise_cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )


def test_scan_streams_one_line_per_input_and_survives_bad_lines() -> None:
    lines = [
        json.dumps({"id": "a", "text": "selling caps, dm"}),
        "this is not json",
        json.dumps({"id": 7, "text": "journal day 30: calmer"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "b", "text": "sеlling асid \u200btabs"}, ensure_ascii=False),
        json.dumps({"id": "c"}),
    ]
    done = dosewise("scan", stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == len(lines)
    assert out[0]["id"] == "a" and out[0]["flagged"] is True and out[0]["category"] == "offer"
    assert {"rule", "signal", "span", "match"} <= set(out[0]["reasons"][0])
    assert out[1]["id"] is None and "error" in out[1]
    assert out[2] == {"id": 7, "flagged": False, "score": 0.0, "category": None, "reasons": []}
    assert out[3]["id"] is None and "error" in out[3]
    text_b = "sеlling асid \u200btabs"
    assert out[4]["flagged"] is True
    for reason in out[4]["reasons"]:
        assert text_b[reason["span"][0] : reason["span"][1]] == reason["match"]
    assert out[5]["id"] == "c" and "error" in out[5]


def test_scan_text_explains_one_message() -> None:
    done = dosewise("scan", "--text", "wtb tabs, paying cash")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("FLAGGED (request)")
    assert "request.buy" in done.stdout and "'wtb'" in done.stdout and "score=" in done.stdout


def test_scan_extra_rules_and_threshold(tmp_path: Path) -> None:
    pack = tmp_path / "extra.yaml"
    pack.write_text(
        "rules:\n  - {id: x.zaza, signal: substance, weight: 0.3, patterns: ['\\bzaza\\b']}\n", encoding="utf-8"
    )
    line = json.dumps({"id": 1, "text": "got zaza, hmu"}) + "\n"
    assert json.loads(dosewise("scan", stdin=line).stdout)["flagged"] is False
    assert json.loads(dosewise("scan", "--rules", str(pack), stdin=line).stdout)["flagged"] is True
    strict = json.loads(dosewise("scan", "--rules", str(pack), "--threshold", "1.0", stdin=line).stdout)
    assert strict["flagged"] is False and strict["score"] < 1.0


def test_scan_bad_pack_is_reported_not_a_traceback(tmp_path: Path) -> None:
    pack = tmp_path / "bad.yaml"
    pack.write_text("rules:\n  - {id: x.bad, signal: substance, weight: 1, patterns: ['(']}\n", encoding="utf-8")
    done = dosewise("scan", "--rules", str(pack), stdin="")
    assert done.returncode == 2
    assert "x.bad" in done.stderr and str(pack) in done.stderr and "Traceback" not in done.stderr


def test_eval_prints_the_table_and_summary() -> None:
    done = dosewise("eval", str(DEV_SET))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["label", "kind", "right/total"]
    assert any(line.startswith("sourcing") and "evasive" in line for line in lines)
    summary = dict(part.split("=") for part in lines[-1].split())
    assert set(summary) == {"precision", "recall", "f1", "evasive_recall", "n", "fp", "fn"}
    assert int(summary["n"]) == 400
    assert float(summary["precision"]) >= 0.97 and float(summary["recall"]) >= 0.93


def test_eval_names_a_missing_file_and_the_line_that_is_not_json(tmp_path: Path) -> None:
    missing = tmp_path / "absent.jsonl"
    done = dosewise("eval", str(missing))
    assert (done.returncode, done.stderr) == (2, f"dosewise: {missing}: no such file\n")

    labelled = tmp_path / "set.jsonl"
    good = json.dumps({"id": 1, "text": "journal day 3", "label": "not_sourcing"})
    labelled.write_text(f"{good}\n\n{{'id': 2}}\n", encoding="utf-8")
    done = dosewise("eval", str(labelled))
    assert done.returncode == 2
    assert done.stderr.startswith(f"dosewise: {labelled}:3: not valid JSON: ")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr

    labelled.write_text(f"{good}\n{json.dumps({'id': 2, 'text': 'hi'})}\n", encoding="utf-8")
    done = dosewise("eval", str(labelled))
    assert (done.returncode, done.stderr) == (2, f"dosewise: {labelled}:2: missing 'label'\n")


@pytest.mark.parametrize("value", ["3", "-0.1", "nan", "half"])
def test_threshold_must_be_between_0_and_1(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["scan", "--threshold", value, "--text", "hi"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("dosewise scan: error: argument --threshold: must be")
    assert err.count("\n") == 1


def test_scan_and_eval_refuse_a_config_they_would_ignore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["scan", "--text", "hi"], ["eval", str(DEV_SET)]):
        assert main(["--config", str(tmp_path / "absent.yaml"), *command]) == 2
        assert capsys.readouterr().err == (
            f"dosewise: --config is not used by `dosewise {command[0]}`; give rule packs with --rules and --threshold\n"
        )
