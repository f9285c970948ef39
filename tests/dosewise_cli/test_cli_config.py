"""`dosewise config check` in a subprocess: ok configs pass, broken ones list FILE: key: problem, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def dosewise(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOSEWISE_", "DISCORD_", "SLACK_"))}
    return subprocess.run(
        [sys.executable, "-m", "dosewise_cli", *args], capture_output=True, text=True, timeout=60, cwd=cwd, env=env
    )


def test_the_example_config_checks_ok(tmp_path: Path) -> None:
    done = dosewise("config", "check", "--config", str(REPO / "config.example.yaml"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{REPO / 'config.example.yaml'}: ok"


def test_a_broken_config_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("moderation:\n  mode: loud\nslack:\n  bot_token: xoxb-do-not-print\n  port: -1\n", encoding="utf-8")
    done = dosewise("config", "check", "--config", str(path), cwd=tmp_path)
    assert done.returncode == 2
    lines = sorted(done.stderr.strip().splitlines())
    assert lines == [
        f"{path}: moderation.mode: must be one of review, hide, got 'loud'",
        f"{path}: slack.bot_token: secrets are read from the environment only; remove this key",
        f"{path}: slack.port: must be between 0 and 65535",
    ]
    assert "xoxb-do-not-print" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_invalid_yaml_and_a_bad_rule_pack_are_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("servers:\n  - [unclosed\n", encoding="utf-8")
    done = dosewise("--config", str(broken), "config", "check", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"{broken}: line ") and "invalid YAML" in done.stderr

    (tmp_path / "pack.yaml").write_text(
        "rules:\n  - id: local.bad\n    signal: substance\n    weight: 0.3\n    patterns: ['(unclosed']\n",
        encoding="utf-8",
    )
    config = tmp_path / "config.yaml"
    config.write_text("moderation:\n  rule_packs: [pack.yaml]\n", encoding="utf-8")
    done = dosewise("config", "check", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 2
    assert f"{config}: moderation.rule_packs:" in done.stderr and "local.bad" in done.stderr


def test_without_a_config_the_defaults_are_reported_valid(tmp_path: Path) -> None:
    done = dosewise("config", "check", cwd=tmp_path)
    assert done.returncode == 0
    assert "defaults are valid" in done.stdout
