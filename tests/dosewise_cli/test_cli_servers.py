"""`dosewise servers` in a subprocess: set, show, list, unset; bad values named with exit 2, nothing stored."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.dosewise_cli.test_cli_config import dosewise


def test_set_show_list_and_unset_a_server_setting(tmp_path: Path) -> None:
    db = str(tmp_path / "bot.db")
    done = dosewise("servers", "set", "123", "mode", "hide", "--db", db, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "server 123: mode set" in done.stdout and "mode: hide  (set at run time)" in done.stdout
    done = dosewise(
        "servers", "set", "123", "allowlist", "[field trip, oregon service center]", "--db", db, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr

    listed = dosewise("servers", "list", "--db", db, cwd=tmp_path)
    assert listed.stdout.splitlines() == ["123", "  allowlist: [field trip, oregon service center]", "  mode: hide"]
    shown = dosewise("servers", "show", "123", "--db", db, cwd=tmp_path).stdout
    assert "  flag_threshold: 0.5\n" in shown and "allowlist: [field trip, oregon service center]  (set" in shown
    assert "mod_channel: null  (the discord: / slack: setting applies)" in shown

    assert dosewise("servers", "unset", "123", "mode", "--db", db, cwd=tmp_path).returncode == 0
    again = dosewise("servers", "unset", "123", "mode", "--db", db, cwd=tmp_path)
    assert again.returncode == 1 and "nothing changed" in again.stdout
    assert "  mode: review\n" in dosewise("servers", "show", "123", "--db", db, cwd=tmp_path).stdout


def test_a_bad_value_is_named_and_nothing_is_stored(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    done = dosewise("servers", "set", "123", "flag_threshold", "high", "--db", str(db), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == "dosewise: servers 123: flag_threshold: must be a number between 0 and 1, got 'high'"
    done = dosewise("servers", "set", "123", "escalation", "{upheld: [", "--db", str(db), cwd=tmp_path)
    assert done.returncode == 2 and "VALUE is not valid YAML" in done.stderr and "Traceback" not in done.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM server_settings").fetchone() == (0,)
