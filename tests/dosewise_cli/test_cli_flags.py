"""`dosewise flags …` in a subprocess against a real SQLite file filled through the real workflow."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dosewise.models import IncomingMessage, MessageRef, ModAction, ReportRequest, ReviewRequest, UserRef
from dosewise.moderation import ModerationService
from dosewise.server_detectors import ServerDetectors
from dosewise.settings import Settings
from dosewise.store import Store

SOURCING = "got shrooms and tabs for sale, dm me on telegram @fungiplug, ships worldwide"
SOURCING_2 = "selling mushrooms and lsd tabs, dm me on telegram, ships worldwide"
OLD = datetime(2020, 1, 1, tzinfo=UTC)
MOD = UserRef(id="m1", name="mod", is_moderator=True)


def dosewise(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DOSEWISE_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "dosewise_cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def message(message_id: str, text: str, server: str = "g1", edited: bool = False) -> IncomingMessage:
    return IncomingMessage(
        ref=MessageRef("discord", server, "c1", message_id),
        author=UserRef(id="u1", name="alice"),
        text=text,
        sent_at=OLD,
        edited=edited,
    )


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    """Four flags: #1 edited and open (g1), #2 upheld (g1), #3 dismissed (g2), #4 a member report (g2)."""
    path = tmp_path / "flags.db"
    settings = Settings(database=path)
    store = await Store.open(path)
    service = ModerationService(store, settings, ServerDetectors(settings), now=lambda: OLD)
    try:
        await service.screen(message("m1", SOURCING))
        await service.screen(message("m1", SOURCING_2, edited=True))
        await service.screen(message("m2", SOURCING))
        await service.screen(message("m3", SOURCING, server="g2"))
        await service.report(ReportRequest(message("m4", "ask me in private", server="g2"), UserRef("u9", "bob")))
        await service.review(ReviewRequest(2, ModAction.DELETE, MOD, note="vendor"))
        await service.review(ReviewRequest(3, ModAction.DISMISS, MOD, note="joke"))
    finally:
        await service.close()
        await store.close()
    return path


def test_list_table_and_filters(db: Path) -> None:
    result = dosewise("flags", "list", "--db", str(db), cwd=db.parent)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "STATUS", "SERVER"]
    assert [line.split()[0] for line in lines[1:]] == ["4", "3", "2", "1"]
    only_open = dosewise("flags", "list", "--db", str(db), "--status", "open", "--server", "g1", cwd=db.parent)
    assert [line.split()[0] for line in only_open.stdout.splitlines()[1:]] == ["1"]
    assert SOURCING_2[:40] in only_open.stdout


def test_list_jsonl(db: Path) -> None:
    result = dosewise("flags", "list", "--db", str(db), "--format", "jsonl", "--server", "g2", cwd=db.parent)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["id"], r["status"], r["category"]) for r in records] == [
        (4, "open", "reported"),
        (3, "dismissed", records[1]["category"]),
    ]
    assert records[1]["reviewed_by"] == "mod" and records[1]["note"] == "joke"
    assert records[0]["reasons"][0]["rule"] == "member-report"


def test_show_has_both_texts_reasons_and_audit_trail(db: Path) -> None:
    result = dosewise("flags", "show", "1", "--db", str(db), cwd=db.parent)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"original text (as flagged): {SOURCING}" in out
    assert f"current text (edited):      {SOURCING_2}" in out
    assert "reasons:" in out and "audit trail:" in out
    assert "flagged" in out and "edited" in out


def test_resolve_then_resolving_again_is_a_clear_error(db: Path) -> None:
    ok = dosewise(
        "flags", "resolve", "1", "--action", "ban", "--moderator", "ops", "--note", "repeat", "--db", str(db),
        cwd=db.parent,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "Flag #1 upheld (ban) by ops." in ok.stdout
    assert "yourself" in ok.stdout  # the CLI cannot ban on the platform and says so
    shown = dosewise("flags", "show", "1", "--db", str(db), cwd=db.parent).stdout
    assert "ban by ops (cli:ops)" in shown and "repeat" in shown
    again = dosewise("flags", "resolve", "1", "--action", "dismiss", "--moderator", "x", "--db", str(db), cwd=db.parent)
    assert again.returncode == 2
    assert "already upheld by ops; nothing changed" in again.stderr
    assert "Traceback" not in again.stderr


def test_errors_exit_2_without_traceback(db: Path, tmp_path: Path) -> None:
    missing = dosewise("flags", "show", "999", "--db", str(db), cwd=tmp_path)
    assert missing.returncode == 2 and "There is no flag #999" in missing.stderr
    no_db = dosewise("flags", "list", "--db", str(tmp_path / "nope.db"), cwd=tmp_path)
    assert no_db.returncode == 2 and "nope.db: no such database" in no_db.stderr
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not sqlite" * 500)
    corrupt = dosewise("flags", "stats", "--db", str(garbage), cwd=tmp_path)
    assert corrupt.returncode == 2 and str(garbage) in corrupt.stderr
    bad_action = dosewise(
        "flags", "resolve", "1", "--action", "smite", "--moderator", "x", "--db", str(db), cwd=tmp_path
    )
    assert bad_action.returncode == 2
    for result in (missing, no_db, corrupt, bad_action):
        assert "Traceback" not in result.stderr


def test_export_csv_and_jsonl(db: Path, tmp_path: Path) -> None:
    as_csv = dosewise("flags", "export", "--format", "csv", "--db", str(db), cwd=tmp_path)
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[0]["original_text"] == SOURCING and rows[0]["text"] == SOURCING_2
    assert json.loads(rows[3]["reasons"])[0]["rule"] == "member-report"
    out = tmp_path / "open.jsonl"
    to_file = dosewise(
        "flags", "export", "--format", "jsonl", "--status", "open", "-o", str(out), "--db", str(db), cwd=tmp_path
    )
    assert to_file.returncode == 0, to_file.stderr
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == [1, 4]


def test_stats_shows_flags_per_day_and_the_dismissed_share(db: Path) -> None:
    result = dosewise("flags", "stats", "--db", str(db), cwd=db.parent)
    assert result.returncode == 0, result.stderr
    assert "2020-01-01" in result.stdout
    assert "total 4: 2 open, 1 upheld, 1 dismissed" in result.stdout
    assert "(false-positive rate): 50.0%" in result.stdout


def test_purge_uses_the_configured_database_and_retention(db: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"database: {db.name}\nretention_days: 7\n", encoding="utf-8")
    result = dosewise("--config", str(config), "flags", "purge", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "removed the message text of 4 flags older than 7 days" in result.stdout
    shown = dosewise("flags", "show", "1", "--config", str(config), cwd=tmp_path)
    assert "(removed by the retention policy)" in shown.stdout and SOURCING not in shown.stdout
    assert "purge" in shown.stdout
    listed = dosewise("flags", "list", "--config", str(config), cwd=tmp_path)
    assert "(text purged)" in listed.stdout


@pytest.fixture
async def hostile_db(tmp_path: Path) -> Path:
    path = tmp_path / "esc.db"
    settings = Settings(database=path)
    store = await Store.open(path)
    service = ModerationService(store, settings, ServerDetectors(settings), now=lambda: OLD + timedelta(days=1))
    try:
        await service.report(ReportRequest(message("m1", "hello \x1b[2J\x1b]0;pwned\x07 there"), UserRef("u9")))
    finally:
        await service.close()
        await store.close()
    return path


def test_message_text_cannot_drive_the_operator_terminal(hostile_db: Path) -> None:
    for args in (("flags", "list"), ("flags", "show", "1")):
        result = dosewise(*args, "--db", str(hostile_db), cwd=hostile_db.parent)
        assert result.returncode == 0, result.stderr
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout


def test_export_to_an_unwritable_path_names_it(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "x.csv"
    done = dosewise("flags", "export", "-o", str(target), "--db", str(db), cwd=tmp_path)
    assert (done.returncode, done.stderr) == (2, f"dosewise: {target}: cannot write: No such file or directory\n")
    if Path("/dev/full").exists():  # a write that fails only when the buffer is flushed
        full = dosewise("flags", "export", "-o", "/dev/full", "--db", str(db), cwd=tmp_path)
        assert (full.returncode, full.stderr) == (2, "dosewise: /dev/full: cannot write: No space left on device\n")


@pytest.mark.parametrize("name", ["", "   ", "mo\nd"])
def test_resolve_refuses_a_blank_moderator(db: Path, tmp_path: Path, name: str) -> None:
    done = dosewise("flags", "resolve", "1", "--action", "dismiss", "--moderator", name, "--db", str(db), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("dosewise flags resolve: error: argument --moderator: must ")
    assert done.stderr.count("\n") == 1
    shown = dosewise("flags", "show", "1", "--db", str(db), cwd=tmp_path).stdout
    assert "Flag #1  open" in shown


def test_resolve_strips_the_moderator_name(db: Path, tmp_path: Path) -> None:
    done = dosewise(
        "flags", "resolve", "1", "--action", "dismiss", "--moderator", "  ops ", "--db", str(db), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "Flag #1 dismissed (dismiss) by ops." in done.stdout
