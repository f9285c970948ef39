"""Settings: YAML plus environment secrets, every problem named as FILE: key: what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from dosewise.errors import ConfigError
from dosewise.settings import load_settings, parse_settings

REPO = Path(__file__).resolve().parents[2]
SECRET_PROBLEM = "secrets are read from the environment only; remove this key"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    return info.value.problems


def test_example_config_is_valid_and_documents_every_section() -> None:
    settings = load_settings(REPO / "config.example.yaml", env={})
    assert settings.policy.mode == "review"
    assert settings.policy.flag_threshold == 0.5
    assert settings.retention_days == 30
    assert settings.slack.mode == "http"
    assert settings.console.moderators == ("mod",)


def test_defaults_without_a_file() -> None:
    settings = load_settings(None, env={})
    assert settings.database.name == "dosewise.db"
    assert settings.policy.escalation.upheld == 3


def test_secrets_come_from_the_environment_only(tmp_path: Path) -> None:
    env = {
        "DISCORD_TOKEN": "d-token",
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_API_URL": "http://127.0.0.1:1/api/",
    }
    settings = load_settings(write(tmp_path, "slack:\n  mode: socket\n"), env=env)
    assert settings.discord.token == "d-token"
    assert settings.slack.bot_token == "xoxb-1"
    assert settings.slack.api_url == "http://127.0.0.1:1/api/"
    found = problems(write(tmp_path, "discord:\n  token: abc\n"))
    assert found == [f"{tmp_path / 'config.yaml'}: discord.token: {SECRET_PROBLEM}"]


def test_every_problem_is_reported_with_file_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "moderation:\n  mode: loud\n  flag_threshold: 2\n  escalation:\n    upheld: zero\n"
        "slack:\n  port: 99999\nretension_days: 3\n",
    )
    found = problems(path)
    keys = [p.split(": ")[1] for p in found]
    assert sorted(keys) == [
        "moderation.escalation.upheld",
        "moderation.flag_threshold",
        "moderation.mode",
        "retension_days",
        "slack.port",
    ]
    assert all(p.startswith(f"{path}: ") for p in found)
    assert any("moderation.mode: must be one of review, hide" in p for p in found)


def test_broken_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "moderation:\n  mode: review\n   flag_threshold: [\n")
    (only,) = problems(path)
    assert only.startswith(f"{path}: line ")
    assert "invalid YAML" in only


def test_missing_file_and_wrong_top_level(tmp_path: Path) -> None:
    assert problems(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: (file): not found"]
    (only,) = problems(write(tmp_path, "- a list\n"))
    assert "(top level): must be a mapping" in only


def test_per_server_overrides_inherit_the_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "moderation:\n  allowlist: [field trip]\n  escalation: {upheld: 2}\n"
        'servers:\n  "42":\n    mode: hide\n    act_threshold: 0.9\n',
    )
    settings = load_settings(path, env={})
    server = settings.policy_for("42")
    assert server.mode == "hide" and server.act_threshold == 0.9
    assert server.allowlist == ("field trip",) and server.escalation.upheld == 2
    assert settings.policy_for("other").mode == "review"


def test_a_server_has_its_own_mod_channel_and_moderators(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'discord:\n  mod_channel: "100"\nservers:\n  "42":\n    mod_channel: "4200"\n    moderators: [Stewards]\n'
        '  "43":\n    mode: hide\n',
    )
    settings = load_settings(path, env={})
    assert settings.policy_for("42").mod_channel == "4200"
    assert settings.policy_for("42").moderators == ("Stewards",)
    # Not overridden: None, so the adapter falls back to its platform section.
    assert settings.policy_for("43").mod_channel is None and settings.policy_for("43").moderators is None
    assert settings.policy.mod_channel is None


def test_mod_channel_under_moderation_points_to_the_right_section(tmp_path: Path) -> None:
    path = write(tmp_path, "moderation:\n  mod_channel: '1'\n  flag_treshold: 0.4\n")
    found = problems(path)
    assert (
        found[0]
        == f"{path}: moderation.mod_channel: set it under discord: or slack: (or per server under servers.<id>:)"
    )
    assert found[1].startswith(f"{path}: moderation.flag_treshold: unknown key")
    assert len(found) == 2


def test_act_threshold_below_flag_threshold_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings({"moderation": {"flag_threshold": 0.6, "act_threshold": 0.4}}, "c.yaml", {}, Path("."))
    assert info.value.problems == ["c.yaml: moderation.act_threshold: must not be lower than flag_threshold"]


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "extra.yaml").write_text("rules: []\n")
    path = write(tmp_path, "database: data/bot.db\nmoderation:\n  rule_packs: [packs/extra.yaml, packs/none.yaml]\n")
    found = problems(path)
    assert found == [f"{path}: moderation.rule_packs: no such file: packs/none.yaml"]


def test_shard_ids_need_a_shard_count(tmp_path: Path) -> None:
    found = problems(write(tmp_path, "discord:\n  shard_ids: [0, 1]\n"))
    assert found == [f"{tmp_path / 'config.yaml'}: discord.shard_ids: needs shard_count, and every id must be below it"]


def test_secrets_never_appear_in_the_printed_settings(tmp_path: Path) -> None:
    env = {
        "DISCORD_TOKEN": "discord-secret-1",
        "SLACK_BOT_TOKEN": "xoxb-secret-2",
        "SLACK_SIGNING_SECRET": "signing-secret-3",
        "SLACK_APP_TOKEN": "xapp-secret-4",
        "SLACK_ADMIN_TOKEN": "xoxp-secret-5",
    }
    settings = load_settings(write(tmp_path, "log_level: DEBUG\n"), env=env)
    printed = repr(settings) + str(settings)
    assert settings.slack.signing_secret == "signing-secret-3"
    assert not [v for v in env.values() if v in printed]
