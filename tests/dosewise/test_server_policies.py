"""Run-time server settings: validated, stored, merged over the config file, picked up by other processes."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dosewise.core import BotCore
from dosewise.errors import ConfigError
from dosewise.models import IncomingMessage, MessageRef, UserRef
from dosewise.server_policies import ServerPolicies
from dosewise.settings import Policy, Settings

SOURCING = "got shrooms and tabs for sale, dm me on telegram @fungiplug, ships worldwide"
OPERATOR = UserRef(id="ops", name="ops")


def message(message_id: str, server: str = "g1", channel: str = "c1") -> IncomingMessage:
    return IncomingMessage(
        ref=MessageRef("discord", server, channel, message_id),
        author=UserRef(id="u1", name="alice"),
        text=SOURCING,
        sent_at=datetime(2026, 3, 1, tzinfo=UTC),
    )


def test_stored_overrides_sit_on_top_of_the_config_server_policy() -> None:
    settings = Settings(servers={"g1": Policy(mode="hide", allowlist=("field trip",), mod_channel="100")})
    policies = ServerPolicies(settings)
    assert policies.update({"g1": {"flag_threshold": 0.8, "escalation": {"upheld": 2}}})
    policy = policies.policy_for("g1")
    assert (policy.mode, policy.flag_threshold, policy.mod_channel) == ("hide", 0.8, "100")
    assert policy.escalation.upheld == 2 and policy.escalation.days == 30
    assert policies.policy_for("other") == settings.policy
    assert not policies.update({"g1": {"flag_threshold": 0.8, "escalation": {"upheld": 2}}})


def test_a_bad_stored_value_is_logged_and_the_config_policy_holds(caplog: pytest.LogCaptureFixture) -> None:
    policies = ServerPolicies(Settings())
    policies.update({"g1": {"mode": "obliterate"}})
    with caplog.at_level(logging.WARNING, logger="dosewise.server_policies"):
        assert policies.policy_for("g1").mode == "review"
    assert "mode: must be one of review, hide" in caplog.text


async def test_settings_change_screening_and_reach_another_process(tmp_path: Path) -> None:
    settings = Settings(database=tmp_path / "bot.db")
    bot = await BotCore.open(settings)
    operator = await BotCore.open(settings)  # stands in for `dosewise servers set` in another process
    try:
        assert not (await bot.screen(message("1"))).hide
        policy = await operator.moderation.set_server_setting("g1", "mode", "hide", OPERATOR)
        assert policy.mode == "hide" and operator.policy_for("g1").mode == "hide"
        assert bot.policy_for("g1").mode == "review"  # until its refresh runs
        assert await bot.moderation.reload_policies()
        assert bot.policy_for("g1").mode == "hide" and bot.policy_for("g2").mode == "review"
        assert (await bot.screen(message("2"))).hide

        # An allowlist phrase set at run time recompiles that server's detector: its span no longer counts.
        await operator.moderation.set_server_setting("g1", "allowlist", ["@fungiplug"], OPERATOR)
        await operator.moderation.set_server_setting("g1", "exempt_channels", ["c2"], OPERATOR)
        await bot.moderation.reload_policies()
        rules = {r.match for r in (await bot.screen(message("3"))).verdict.reasons}
        assert "@fungiplug" in {r.match for r in (await bot.screen(message("3", server="g2"))).verdict.reasons}
        assert "@fungiplug" not in rules and rules
        assert (await bot.screen(message("4", channel="c2"))).skipped

        assert await operator.moderation.unset_server_setting("g1", "exempt_channels", OPERATOR)
        assert not await operator.moderation.unset_server_setting("g1", "exempt_channels", OPERATOR)
        await bot.moderation.reload_policies()
        assert (await bot.screen(message("5", channel="c2"))).verdict.flagged
    finally:
        await bot.close()
        await operator.close()


async def test_an_invalid_setting_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    core = await BotCore.open(Settings(database=tmp_path / "bot.db"))
    try:
        with pytest.raises(ConfigError) as info:
            await core.moderation.set_server_setting("g1", "act_threshold", 2, OPERATOR)
        assert info.value.problems == ["servers g1: act_threshold: must be between 0 and 1, got 2"]
        with pytest.raises(ConfigError) as info:
            await core.moderation.set_server_setting("g1", "rule_packs", ["x.yaml"], OPERATOR)
        assert "rule_packs: cannot be changed at run time" in info.value.problems[0]
    finally:
        await core.close()
    with sqlite3.connect(tmp_path / "bot.db") as db:
        assert db.execute("SELECT count(*) FROM server_settings").fetchone() == (0,)
