"""`dosewise scan` and `dosewise eval` through the real entry point, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
