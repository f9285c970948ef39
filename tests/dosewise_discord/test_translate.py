"""Pure translation: custom ids, moderator rights, review requests."""

from __future__ import annotations

import re
from dataclasses import dataclass

import discord
import pytest

from dosewise.models import ModAction, UserRef
from dosewise_discord import translate


@dataclass
class RoleLike:
    """The two attributes of a discord.Role that moderator detection reads."""

    id: int
    name: str


@pytest.mark.parametrize("action", list(ModAction))
def test_custom_id_round_trip(action: ModAction) -> None:
    value = translate.custom_id(1234, action)
    assert value == f"dosewise:flag:1234:{action.value}"
    assert translate.parse_custom_id(value) == (1234, action)


@pytest.mark.parametrize(
    "value",
    ["dosewise:flag:12:explode", "dosewise:flag:x:dismiss", "dosewise:flag:-3:ban", "other:flag:1:ban", ""],
)
def test_foreign_or_broken_custom_ids_are_none(value: str) -> None:
    assert translate.parse_custom_id(value) is None


def test_review_from_custom_id_carries_default_timeout_only_for_timeouts() -> None:
    mod = UserRef("7", "bob", is_moderator=True)
    timeout = translate.review_from_custom_id("dosewise:flag:5:timeout", mod, 1800)
    assert timeout is not None and timeout.timeout_seconds == 1800 and timeout.flag_id == 5
    ban = translate.review_from_custom_id("dosewise:flag:5:ban", mod, 1800)
    assert ban is not None and ban.timeout_seconds is None and ban.action is ModAction.BAN
    assert translate.review_from_custom_id("dosewise:flag:5:nuke", mod, 1800) is None


@pytest.mark.parametrize(("values", "minutes"), [(["10"], 10), (["1440"], 1440), (["40320"], 40320)])
def test_timeout_pick_in_minutes(values: list[str], minutes: int) -> None:
    assert translate.timeout_minutes(values) == minutes


@pytest.mark.parametrize(
    "values",
    [[], ["10", "60"], ["0"], ["-5"], ["40321"], ["1e3"], ["ten"], [" 10"], ["١٠"], ["9" * 50], [""]],
)
def test_timeout_picks_discord_could_not_apply_are_none(values: list[str]) -> None:
    assert translate.timeout_minutes(values) is None


def test_timeout_menu_id_is_the_timeout_button_id() -> None:
    # Old alerts' time-out button and the new menu share one id; the component type tells them apart.
    value = translate.custom_id(42, ModAction.TIMEOUT)
    assert re.fullmatch(translate.TIMEOUT_MENU_TEMPLATE, value) is not None
    assert translate.parse_custom_id(value) == (42, ModAction.TIMEOUT)
    assert re.fullmatch(translate.TIMEOUT_MENU_TEMPLATE, translate.custom_id(42, ModAction.BAN)) is None
    assert translate.is_component({"custom_id": value, "component_type": 3}, discord.ComponentType.string_select)
    assert translate.is_component({"custom_id": value, "component_type": 2}, discord.ComponentType.button)
    assert not translate.is_component({"custom_id": value, "component_type": 2}, discord.ComponentType.string_select)
    assert not translate.is_component(None, discord.ComponentType.button)


def test_review_request_takes_the_picked_duration_else_the_default() -> None:
    mod = UserRef("7", "bob", is_moderator=True)
    picked = translate.review_request(5, ModAction.TIMEOUT, mod, 1800, 1440)
    assert picked.timeout_seconds == 86400 and picked.action is ModAction.TIMEOUT
    assert translate.review_request(5, ModAction.TIMEOUT, mod, 1800).timeout_seconds == 1800
    assert translate.review_request(5, ModAction.BAN, mod, 1800, 1440).timeout_seconds is None


def test_moderators_by_role_name_role_id_or_manage_messages() -> None:
    member = discord.Permissions(send_messages=True)
    roles = [RoleLike(111, "Moderator"), RoleLike(222, "Regular")]
    assert translate.is_moderator(roles, member, ["moderator"])  # type: ignore[arg-type]
    assert translate.is_moderator(roles, member, ["@Moderator"])  # type: ignore[arg-type]
    assert translate.is_moderator(roles, member, ["111"])  # type: ignore[arg-type]
    assert not translate.is_moderator(roles, member, ["333", "Admins"])  # type: ignore[arg-type]
    assert translate.is_moderator([], discord.Permissions(manage_messages=True), [])
    assert translate.is_moderator([], discord.Permissions(administrator=True), [])
    assert not translate.is_moderator([], member, [])
