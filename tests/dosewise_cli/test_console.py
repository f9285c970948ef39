"""The console adapter end to end: the real core, real content, real detector, a real SQLite file."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dosewise.core import BotCore
from dosewise.settings import load_settings
from dosewise_cli.console import ConsoleSession

SOURCING = "got shrooms and tabs for sale, dm me on telegram @fungiplug, ships worldwide"
ORDINARY = "day 3 of the protocol, slept badly but mood is ok"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text("database: bot.db\nconsole:\n  moderators: [mod]\n  user: alice\n", encoding="utf-8")
    return path


async def session_for(config: Path) -> tuple[ConsoleSession, io.StringIO, BotCore]:
    settings = load_settings(config, env={})
    core = await BotCore.open(settings)
    out = io.StringIO()
    return ConsoleSession(core, settings, out), out, core


async def run_lines(session: ConsoleSession, out: io.StringIO, *lines: str) -> str:
    start = out.tell()
    for line in lines:
        assert await session.handle(line)
    out.seek(start)
    text = out.read()
    out.seek(0, io.SEEK_END)
    return text


async def test_ordinary_chat_is_not_flagged_and_sourcing_alerts(config: Path) -> None:
    session, out, core = await session_for(config)
    try:
        text = await run_lines(session, out, ORDINARY)
        assert "[1] #general alice: day 3" in text
        assert "FLAG" not in text
        text = await run_lines(session, out, SOURCING)
        assert "FLAG #1" in text
        assert "by alice" in text
        flags = await core.pending_flags("console")
        assert [f.ref.message_id for f in flags] == ["2"]
    finally:
        await core.close()


async def test_only_moderators_review_and_a_second_review_changes_nothing(config: Path) -> None:
    session, out, core = await session_for(config)
    try:
        await run_lines(session, out, SOURCING)
        refused = await run_lines(session, out, "/flags", "/flags resolve 1 dismiss")
        assert refused.count("only moderators can review flags") == 2
        assert (await core.get_flag(1)).status == "open"

        listed = await run_lines(session, out, ":as mod", "/flags")
        assert "now speaking as mod (moderator)" in listed and "#1 " in listed
        done = await run_lines(session, out, "/flags resolve 1 timeout second time this week")
        assert "flag #1 upheld by mod (timeout)" in done and "alice timed out" in done
        again = await run_lines(session, out, "/flags resolve 1 dismiss")
        assert "already upheld" in again
        flag = await core.get_flag(1)
        assert (flag.status, flag.action, flag.note) == ("upheld", "timeout", "second time this week")

        blocked = await run_lines(session, out, ":as alice", "still here?")
        assert "alice is timed out" in blocked
    finally:
        await core.close()


async def test_edits_are_screened_again_and_reports_become_flags(config: Path) -> None:
    session, out, core = await session_for(config)
    try:
        await run_lines(session, out, "anyone tried lion's mane with it?")
        edited = await run_lines(session, out, ":edit 1 anyone selling lsd tabs? will pay with cashapp")
        assert "(edited)" in edited and "FLAG #1" in edited
        await run_lines(session, out, ":as bob", "hey alice check your DMs ;)")
        reported = await run_lines(session, out, "/report 2 looks like a deal")
        assert "the moderators will take a look" in reported
        flag = await core.get_flag(2)
        assert flag.category == "reported" and flag.reporter is not None and flag.reporter.name == "bob"
    finally:
        await core.close()


async def test_reporting_an_already_flagged_message_says_so(config: Path) -> None:
    session, out, core = await session_for(config)
    try:
        await run_lines(session, out, SOURCING)
        reported = await run_lines(session, out, ":as bob", "/report 1 saw this too")
        assert "the moderators will take a look" in reported
        assert "already flagged (#1), report noted" in reported
        assert "FLAG UPDATED" not in reported and "message edited" not in reported
        assert "/flags resolve 1" in reported
        assert [f.id for f in await core.pending_flags("console")] == [1]

        await run_lines(session, out, ":as mod", "/flags resolve 1 dismiss joke")
        again = await run_lines(session, out, ":as bob", "/report 1 still looks like a deal")
        assert "already flagged (#1, dismissed), report noted" in again
        assert "/flags resolve" not in again  # a reviewed flag cannot be resolved again
        edited = await run_lines(session, out, ":as alice", ":edit 1 selling lsd tabs, dm me on telegram")
        assert "FLAG UPDATED (message edited) #1" in edited
    finally:
        await core.close()


async def test_answers_and_help(config: Path) -> None:
    session, out, core = await session_for(config)
    try:
        answer = await run_lines(session, out, "/microdosing risks")
        assert answer.count("https://doi.org/") >= 2
        listing = await run_lines(session, out, "/microdosing", "/help", "/nope")
        assert "risks-and-side-effects" in listing
        assert ":as NAME" in listing and "unknown command /nope" in listing
    finally:
        await core.close()


def test_scripted_console_session_in_a_subprocess(config: Path) -> None:
    lines = ["hi", "/microdosing risks", SOURCING, ":as mod", "/flags", "/flags resolve 1 dismiss no", ":quit"]
    script = "\n".join(lines) + "\n"
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "SLACK_BOT_TOKEN")}
    done = subprocess.run(
        [sys.executable, "-m", "dosewise_cli", "--config", str(config), "run", "console"],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=config.parent,
    )
    assert done.returncode == 0, done.stderr
    assert "https://doi.org/" in done.stdout
    assert "FLAG #1" in done.stdout
    assert "flag #1 dismissed by mod" in done.stdout
    assert "\033[" not in done.stdout  # piped output is plain text
    assert "Traceback" not in done.stderr
    assert (config.parent / "bot.db").exists()
