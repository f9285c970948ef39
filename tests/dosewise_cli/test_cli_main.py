"""Options of the `dosewise` command itself: `--log-level`, and usage errors as one line with exit status 2."""

from __future__ import annotations

import pytest

from dosewise_cli.main import build_parser, main


def test_an_unknown_log_level_is_a_one_line_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--log-level", "bogus", "topics"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("dosewise: error: argument --log-level: invalid choice: 'BOGUS'")
    assert "DEBUG" in err and "ERROR" in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(("given", "level"), [("debug", "DEBUG"), ("Info", "INFO"), ("WARNING", "WARNING")])
def test_log_level_is_case_insensitive(given: str, level: str) -> None:
    assert build_parser().parse_args(["--log-level", given, "topics"]).log_level == level


def test_subcommand_usage_errors_are_one_line_too(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["flags", "resolve", "1"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("dosewise flags resolve: error: the following arguments are required: --action")
    assert err.endswith("(see dosewise flags resolve --help)\n") and err.count("\n") == 1
