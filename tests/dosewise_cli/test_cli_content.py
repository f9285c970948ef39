"""`dosewise topics` and `dosewise ask` run as real subprocesses against the real content."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dosewise.content import Content
from dosewise.models import Reply, ReplyKind, Section, SourceLink, TopicChoice
from dosewise_cli.render_text import render_reply

REPO = Path(__file__).resolve().parents[2]
MINIMAL = REPO / "tests" / "data" / "content" / "minimal"
VENV_SCRIPT = Path(sys.executable).parent / "dosewise"


def _dosewise(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(VENV_SCRIPT)] if VENV_SCRIPT.exists() else [sys.executable, "-m", "dosewise_cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSEWISE_")}
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=60, cwd=cwd or REPO, env=env, check=False
    )


def test_topics_lists_slug_and_title() -> None:
    result = _dosewise("topics")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(Content.load().topics())
    assert lines[0].split()[0] == "what-is-microdosing"
    assert any(line.startswith("risks-and-side-effects") and "Risks and side effects" in line for line in lines)


def test_ask_risks_prints_doi_links() -> None:
    result = _dosewise("ask", "risks")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("https://doi.org/") >= 2
    assert "Risks and side effects" in result.stdout
    assert "Sources" in result.stdout and "[1]" in result.stdout
    assert "\033[" not in result.stdout  # no colour codes when piped


def test_ask_free_text_question() -> None:
    result = _dosewise("ask", "is", "it", "legal", "in", "oregon?")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Legal status")


def test_ask_sourcing_is_refused() -> None:
    result = _dosewise("ask", "where can i buy shrooms")
    assert result.returncode == 0, result.stderr
    assert "No sourcing help" in result.stdout
    assert "harm-reduction" in result.stdout and "legal-status" in result.stdout
    assert "https://" not in result.stdout


def test_ask_without_text_lists_topics() -> None:
    result = _dosewise("ask")
    assert result.returncode == 0, result.stderr
    assert "crisis-resources" in result.stdout


def test_content_dir_option_and_content_error_exit_2(tmp_path: Path) -> None:
    root = tmp_path / "responses"
    shutil.copytree(MINIMAL, root)
    ok = _dosewise("topics", "--content-dir", str(root))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.split() == ["alpha-topic", "Alpha", "topic", "beta-topic", "Beta", "topic"]
    broken = root / "microdosing" / "alpha-topic.yaml"
    broken.write_text(broken.read_text().replace("summary: A short alpha summary.\n", ""))
    result = _dosewise("ask", "alpha", "--content-dir", str(root))
    assert result.returncode == 2
    assert "responses/microdosing/alpha-topic.yaml: summary: missing" in result.stderr


@pytest.mark.parametrize("command", [["topics"], ["ask", "ptsd"], ["ask"]])
def test_a_missing_or_broken_config_is_an_error_like_for_run(tmp_path: Path, command: list[str]) -> None:
    absent = tmp_path / "absent.yaml"
    broken = tmp_path / "broken.yaml"
    broken.write_text("moderation:\n  mode: loud\n", encoding="utf-8")
    for config, problem in ((absent, "(file): not found"), (broken, "moderation.mode: must be one of review, hide")):
        for args in (["--config", str(config), *command], [*command, "--config", str(config)]):
            result = _dosewise(*args, cwd=tmp_path)
            assert result.returncode == 2, args
            assert result.stderr.startswith(f"dosewise: {config}: {problem}") and result.stdout == ""
            assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    # `run` reports the same missing file in the same words.
    run = _dosewise("--config", str(absent), "run", "console", cwd=tmp_path)
    assert (run.returncode, run.stderr) == (2, f"dosewise: {absent}: (file): not found\n")


def test_a_given_config_is_used_for_its_content_dir(tmp_path: Path) -> None:
    shutil.copytree(MINIMAL, tmp_path / "responses")
    config = tmp_path / "config.yaml"
    config.write_text("content_dir: responses\n", encoding="utf-8")
    result = _dosewise("--config", str(config), "topics", cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["alpha-topic", "Alpha", "topic", "beta-topic", "Beta", "topic"]


REPLY = Reply(
    kind=ReplyKind.ANSWER,
    title="Title",
    summary="Summary text.",
    sections=(Section("Evidence", "- first point [1]\n- second point"), Section("Bottom line", "Plain.")),
    sources=(SourceLink("Doe et al. (2020). A study.", "https://doi.org/10.1000/x"),),
    footer="Not advice.",
    topic="t",
)


def test_render_reply_plain() -> None:
    text = render_reply(REPLY)
    assert text.splitlines()[:3] == ["Title", "=====", "Summary text."]
    assert "\nEvidence\n  - first point [1]\n  - second point\n" in text
    assert "  [1] Doe et al. (2020). A study.\n      https://doi.org/10.1000/x" in text
    assert text.rstrip().endswith("Not advice.")
    assert "\033[" not in text


def test_render_reply_color_and_topic_list() -> None:
    assert "\033[1m" in render_reply(REPLY, color=True)
    topics = Reply(kind=ReplyKind.TOPICS, title="Topics", summary="Pick one.", topics=(TopicChoice("a-b", "A B"),))
    assert "  a-b  A B" in render_reply(topics)


@pytest.mark.parametrize("slug", [c.slug for c in Content.load().topics()])
def test_every_real_topic_renders(slug: str) -> None:
    text = render_reply(Content.load().answer(slug))
    assert "Sources" in text and "https://" in text
