"""A bot process storing flags is killed with SIGKILL mid-stream: every flag it reported stored survives."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dosewise.store import Store

SCRIPT = textwrap.dedent(
    """
    import asyncio
    import sys
    from pathlib import Path

    from dosewise.core import BotCore
    from dosewise.models import IncomingMessage, MessageRef, UserRef, utcnow
    from dosewise.settings import Settings

    TEXT = "got shrooms and tabs for sale, dm me on telegram @fungiplug, ships worldwide"


    async def main(db: str) -> None:
        core = await BotCore.open(Settings(database=Path(db)))
        i = 0
        while True:
            ref = MessageRef("discord", "g1", "c1", f"m{i}")
            outcome = await core.screen(IncomingMessage(ref, UserRef("u1", "alice"), TEXT, utcnow()))
            if outcome.stored and outcome.flag is not None:
                print(outcome.flag.id, flush=True)
            i += 1


    asyncio.run(main(sys.argv[1]))
    """
)
REPORTED = 300


def run_and_kill(script: Path, db: Path, lines: int) -> tuple[list[int], int, str]:
    """Run the bot script until it has reported `lines` stored flags, then SIGKILL it."""
    proc = subprocess.Popen(
        [sys.executable, str(script), str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reported: list[int] = []
    try:
        assert proc.stdout is not None
        while len(reported) < lines:
            line = proc.stdout.readline()
            if not line:
                break
            reported.append(int(line))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        _, stderr = proc.communicate(timeout=30)
    return reported, proc.returncode, stderr


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
async def test_flags_reported_stored_survive_sigkill(tmp_path: Path) -> None:
    script = tmp_path / "bot.py"
    script.write_text(SCRIPT, encoding="utf-8")
    db = tmp_path / "bot.db"
    reported, returncode, stderr = run_and_kill(script, db, REPORTED)
    assert len(reported) == REPORTED, stderr
    assert returncode == -signal.SIGKILL

    raw = sqlite3.connect(db)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in raw.execute("SELECT id FROM flags")}
        audited = {row[0] for row in raw.execute("SELECT flag_id FROM audit_events WHERE action = 'flagged'")}
    finally:
        raw.close()
    assert set(reported) <= stored
    assert set(reported) <= audited
    # And the bot's own code opens the file after the crash.
    store = await Store.open(db)
    try:
        assert len(await store.list_flags(limit=None)) >= REPORTED
    finally:
        await store.close()
