"""The Dosewise client end to end: the real discord.py client, a real core and SQLite, a fake Discord."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import discord

from dosewise.models import FlagStatus, ModAction
from tests.dosewise_discord.conftest import RunningClient, bot_settings, start_bot, stop_bot
from tests.dosewise_discord.fake_discord import BUTTON, EPHEMERAL, MANAGE_MESSAGES, STRING_SELECT, FakeDiscord

OFFER = "selling shrooms, dm me on telegram, discreet shipping, pay with crypto"
REQUEST = "anyone know where to buy acid? dm me"
CLEAN = "I read the placebo study, interesting"
CALLBACK = r"/interactions/\d+/[^/]+/callback"
ORIGINAL = r"/webhooks/\d+/[^/]+/messages/@original"
FOLLOWUP = r"/webhooks/\d+/[^/]+"


def alert_path(fake: FakeDiscord) -> str:
    return rf"/channels/{fake.mod_channel_id}/messages"


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row.get("components", [])]


def timeout_menu(message: dict[str, Any]) -> dict[str, Any]:
    [menu] = [c for row in message["components"] for c in row["components"] if c["type"] == STRING_SELECT]
    return menu


def flag_id_of(alert: dict[str, Any]) -> int:
    ids = custom_ids(alert)
    assert ids, "the alert has no buttons"
    return int(ids[0].split(":")[2])


async def flagged_alert(
    fake: FakeDiscord, bot: RunningClient, text: str = OFFER, **where: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A member posts a sourcing message; return (message, alert) once the alert is posted and recorded."""
    waiter = asyncio.create_task(bot.client.wait_for("dosewise_alert", timeout=10))
    await asyncio.sleep(0)  # let the waiter register before the event can arrive
    message = await fake.send_message(fake.alice, text, **where)
    flag, alert = await waiter
    assert flag.ref.message_id == message["id"]
    return message, fake.messages[alert.id]


async def click(fake: FakeDiscord, bot: RunningClient, user: Any, message_id: int, custom_id: str) -> None:
    """Click a button and wait until the bot has finished with the click (actions and alert edits)."""
    waiter = asyncio.create_task(bot.client.wait_for("dosewise_review_done", timeout=10))
    await asyncio.sleep(0)
    await fake.click(user, message_id, custom_id)
    await waiter


async def pick(fake: FakeDiscord, bot: RunningClient, user: Any, message_id: int, custom_id: str, value: str) -> None:
    """Pick one value in a menu and wait until the bot has finished with the pick."""
    waiter = asyncio.create_task(bot.client.wait_for("dosewise_review_done", timeout=10))
    await asyncio.sleep(0)
    await fake.select(user, message_id, custom_id, [value])
    await waiter


def alert_edits(fake: FakeDiscord, since: int) -> list[dict[str, Any]]:
    """The embeds of every edit of the clicked alert (`@original` of the click) since `since`, in order."""
    return [r.body["embeds"][0] for r in fake.calls("PATCH", ORIGINAL) if fake.requests.index(r) >= since]


def fields_of(embed: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in embed["fields"]}


async def screened(running: RunningClient, message_id: int) -> Any:
    """Wait until the bot has screened one message; return its ScreenOutcome."""
    _, outcome = await running.client.wait_for(
        "dosewise_screened", check=lambda incoming, _: incoming.ref.message_id == str(message_id), timeout=10
    )
    return outcome


async def test_login_ready_guild_and_command_sync(fake: FakeDiscord, bot: RunningClient) -> None:
    identify = next(s.identify for s in fake.sessions if s.identify is not None)
    assert identify is not None
    intents = discord.Intents._from_value(identify["intents"])
    assert intents.guilds and intents.guild_messages and intents.message_content
    assert not intents.members and not intents.presences
    assert [g.id for g in bot.client.guilds] == [fake.guild_id]

    sync = fake.calls("PUT", rf"/applications/{fake.application_id}/commands")
    assert len(sync) == 1
    commands = {c["name"]: c for c in sync[0].body}
    assert set(commands) == {"microdosing", "flags", "Report to moderators"}
    options = {o["name"]: o for o in commands["microdosing"]["options"]}
    assert options["topic"]["autocomplete"] is True
    assert options["private"]["type"] == 5
    assert int(commands["flags"]["default_member_permissions"]) == MANAGE_MESSAGES
    assert {o["name"] for o in commands["flags"]["options"]} == {"list", "show"}
    assert commands["Report to moderators"]["type"] == 3
    assert sync[0].headers["Authorization"] == "Bot fake-token-never-logged"


async def test_topic_autocomplete(fake: FakeDiscord, bot: RunningClient) -> None:
    await fake.autocomplete(
        fake.alice,
        "microdosing",
        [{"name": "topic", "type": 3, "value": "", "focused": True}],
    )
    callback = await fake.wait_for_request("POST", CALLBACK)
    assert callback.body["type"] == 8
    choices = callback.body["data"]["choices"]
    assert 0 < len(choices) <= 25
    assert all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)
    expected = [t.slug for t in bot.core.autocomplete("", 25)]
    assert [c["value"] for c in choices] == expected[:25]


async def test_microdosing_topic_answers_with_an_embed(fake: FakeDiscord, bot: RunningClient) -> None:
    await fake.slash(fake.alice, "microdosing", [{"name": "topic", "type": 3, "value": "risks"}])
    callback = await fake.wait_for_request("POST", CALLBACK)
    assert callback.body["type"] == 4
    data = callback.body["data"]
    assert data["flags"] & EPHEMERAL  # private by default
    [embed] = data["embeds"]
    assert embed["title"]
    assert len(discord.Embed.from_dict(embed)) <= 6000


async def test_microdosing_public_answer(fake: FakeDiscord, bot: RunningClient) -> None:
    await fake.slash(
        fake.alice,
        "microdosing",
        [{"name": "question", "type": 3, "value": "is it safe?"}, {"name": "private", "type": 5, "value": False}],
    )
    callback = await fake.wait_for_request("POST", CALLBACK)
    assert not callback.body["data"].get("flags", 0) & EPHEMERAL
    assert callback.body["data"]["embeds"]


async def test_flagged_message_posts_an_alert_with_buttons(fake: FakeDiscord, bot: RunningClient) -> None:
    message, alert = await flagged_alert(fake, bot)
    [embed] = alert["embeds"]
    assert embed["url"].endswith(f"/{fake.general_id}/{message['id']}")
    flag_id = flag_id_of(alert)
    buttons, menus = alert["components"]
    assert [c["type"] for c in buttons["components"]] == [BUTTON] * 4
    assert [c["type"] for c in menus["components"]] == [STRING_SELECT]
    actions = ["dismiss", "uphold", "delete", "ban", "timeout"]
    assert custom_ids(alert) == [f"dosewise:flag:{flag_id}:{a}" for a in actions]
    assert all(len(i) <= 100 for i in custom_ids(alert)) and len(alert["components"]) <= 5
    menu = timeout_menu(alert)
    # 10 min, 1 hour, 1 day, 1 week, and the configured default of the test settings (30 min).
    assert [(o["label"], o["value"]) for o in menu["options"]] == [
        ("10 min", "10"),
        ("30 min", "30"),
        ("1 hour", "60"),
        ("1 day", "1440"),
        ("1 week", "10080"),
    ]
    assert menu["min_values"] == menu["max_values"] == 1 and not any(o.get("default") for o in menu["options"])
    flag = await bot.core.get_flag(flag_id)
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert f"<@{fake.alice.id}>" in fields["Author"]
    assert fields["Score"] == f"{flag.score:.2f} · {flag.category}"
    assert flag.reasons and all(f"`{r.rule}`" in fields["Why"] for r in flag.reasons[:3])
    assert "selling shrooms" in embed["description"]
    assert flag.status is FlagStatus.OPEN
    assert flag.alert_ref is not None and flag.alert_ref.message_id == alert["id"]
    assert flag.ref.permalink == embed["url"]


async def test_thread_and_forum_post_messages_are_screened(fake: FakeDiscord, bot: RunningClient) -> None:
    message, alert = await flagged_alert(fake, bot, REQUEST, channel_id=fake.post_id)
    flag = await bot.core.get_flag(flag_id_of(alert))
    assert flag.ref.channel_id == str(fake.post_id) and flag.ref.message_id == message["id"]
    assert flag.category in ("request", "referral", "logistics", "offer")


async def test_edit_of_an_uncached_message_is_screened(fake: FakeDiscord, bot: RunningClient) -> None:
    # A message sent before the bot started: never in its cache, so only on_raw_message_edit sees the edit.
    old = fake.message_payload(fake.general_id, fake.alice, "hello everyone")
    fake.messages[int(old["id"])] = old
    since = len(fake.requests)
    await fake.edit_message(int(old["id"]), REQUEST)
    await fake.wait_for_request("POST", alert_path(fake), since=since)
    [flag] = await bot.core.pending_flags(str(fake.guild_id))
    assert flag.ref.message_id == old["id"] and flag.text == REQUEST


async def test_edit_of_a_flagged_message_updates_its_alert(fake: FakeDiscord, bot: RunningClient) -> None:
    message, alert = await flagged_alert(fake, bot)
    since = len(fake.requests)
    await fake.edit_message(int(message["id"]), "never mind, " + OFFER.replace("telegram", "signal"))
    edit = await fake.wait_for_request("PATCH", rf"{alert_path(fake)}/{alert['id']}", since=since)
    fields = {f["name"]: f["value"] for f in edit.body["embeds"][0]["fields"]}
    assert "selling shrooms" in fields["First flagged text (before an edit)"]
    assert custom_ids(edit.body)  # still open: the buttons stay
    assert len(fake.calls("POST", alert_path(fake))) == 1


async def test_bots_self_and_clean_messages_raise_nothing(fake: FakeDiscord, bot: RunningClient) -> None:
    await fake.send_message(fake.other_bot, OFFER)
    clean = await fake.send_message(fake.alice, CLEAN)
    outcome = await screened(bot, int(clean["id"]))
    assert outcome.flag is None and not outcome.verdict.flagged
    # The bot's own alert echoed back over the gateway is skipped too: exactly one alert, for Alice.
    await flagged_alert(fake, bot)
    await asyncio.sleep(0.05)
    assert len(fake.calls("POST", alert_path(fake))) == 1
    assert await bot.core.flags(server_id=str(fake.guild_id)) and len(await bot.core.flags()) == 1


async def test_moderator_delete_click(fake: FakeDiscord, bot: RunningClient) -> None:
    message, alert = await flagged_alert(fake, bot)
    flag_id = flag_id_of(alert)
    since = len(fake.requests)
    await click(fake, bot, fake.bob, int(alert["id"]), f"dosewise:flag:{flag_id}:delete")
    callback = await fake.wait_for_request("POST", CALLBACK, since=since)
    assert callback.body["type"] == 6  # deferred: the store may be slow, the alert is edited next
    first_edit = await fake.wait_for_request("PATCH", ORIGINAL, since=since)
    assert first_edit.body["components"] == []
    review = fields_of(first_edit.body["embeds"][0])["Review"]
    assert f"by <@{fake.bob.id}>" in review and "delete" in review
    assert "Actions" not in fields_of(first_edit.body["embeds"][0])
    deleted = await fake.wait_for_request("DELETE", rf"/channels/{fake.general_id}/messages/{message['id']}")
    assert fake.requests.index(deleted) > fake.requests.index(first_edit)  # who did what is shown first
    assert fields_of(alert_edits(fake, since)[-1])["Actions"] == "Message deleted."
    assert fake.messages[int(alert["id"])]["components"] == []
    assert fields_of(fake.messages[int(alert["id"])]["embeds"][0])["Actions"] == "Message deleted."
    flag = await bot.core.get_flag(flag_id)
    assert flag.status is FlagStatus.UPHELD and flag.action is ModAction.DELETE
    assert flag.reviewed_by is not None and flag.reviewed_by.id == str(fake.bob.id)
    audit = await bot.core.audit(flag_id)
    assert [(e.action, e.actor_id) for e in audit if e.action == "delete"] == [("delete", str(fake.bob.id))]


async def test_manage_messages_member_times_out(fake: FakeDiscord, bot: RunningClient) -> None:
    _, alert = await flagged_alert(fake, bot)
    flag_id = flag_id_of(alert)
    since = len(fake.requests)
    # Carol has no moderator role, but her Helper role grants Manage Messages.
    await pick(fake, bot, fake.carol, int(alert["id"]), f"dosewise:flag:{flag_id}:timeout", "30")
    patch = await fake.wait_for_request("PATCH", rf"/guilds/{fake.guild_id}/members/{fake.alice.id}", since=since)
    assert patch.body["communication_disabled_until"]
    assert unquote(patch.headers["X-Audit-Log-Reason"]) == f"Dosewise flag #{flag_id}: timeout by Carol"
    assert "timed out for 30 min" in fields_of(alert_edits(fake, since)[-1])["Actions"]
    assert fake.timeouts[fake.alice.id]


def until(patch: Any) -> datetime:
    return datetime.fromisoformat(patch.body["communication_disabled_until"])


async def test_moderator_picks_a_timeout_of_one_day(fake: FakeDiscord, bot: RunningClient) -> None:
    _, alert = await flagged_alert(fake, bot)
    flag_id = flag_id_of(alert)
    since = len(fake.requests)
    await pick(fake, bot, fake.bob, int(alert["id"]), f"dosewise:flag:{flag_id}:timeout", "1440")
    callback = await fake.wait_for_request("POST", CALLBACK, since=since)
    assert callback.body["type"] == 6  # deferred, then the alert itself is edited
    member = rf"/guilds/{fake.guild_id}/members/{fake.alice.id}"
    [patch] = [r for r in fake.calls("PATCH", member) if fake.requests.index(r) >= since]
    assert abs(until(patch) - (datetime.now(UTC) + timedelta(days=1))) < timedelta(minutes=1)
    assert unquote(patch.headers["X-Audit-Log-Reason"]) == f"Dosewise flag #{flag_id}: timeout by Bob"
    first, *_, last = alert_edits(fake, since)
    review = fields_of(first)["Review"]
    assert f"time out <@{fake.alice.id}> for 1 day by <@{fake.bob.id}>" in review
    assert fields_of(last)["Actions"] == f"<@{fake.alice.id}> timed out for 1 day."
    assert fake.messages[int(alert["id"])]["components"] == []  # reviewed: no more buttons or menu
    flag = await bot.core.get_flag(flag_id)
    assert flag.status is FlagStatus.UPHELD and flag.action is ModAction.TIMEOUT
    audit = await bot.core.audit(flag_id)
    assert [(e.action, e.actor_id) for e in audit if e.action == "timeout"] == [("timeout", str(fake.bob.id))]


async def test_non_moderator_pick_is_refused(fake: FakeDiscord, bot: RunningClient) -> None:
    _, alert = await flagged_alert(fake, bot)
    flag_id = flag_id_of(alert)
    since = len(fake.requests)
    await pick(fake, bot, fake.alice, int(alert["id"]), f"dosewise:flag:{flag_id}:timeout", "10080")
    callback = await fake.wait_for_request("POST", CALLBACK, since=since)
    assert callback.body["type"] == 4 and callback.body["data"]["flags"] & EPHEMERAL
    assert "Only moderators" in callback.body["data"]["content"]
    assert [r.method for r in fake.requests[since:]] == ["POST"]  # no member PATCH, no alert edit
    assert not fake.timeouts
    assert (await bot.core.get_flag(flag_id)).status is FlagStatus.OPEN
    assert timeout_menu(fake.messages[int(alert["id"])])  # the alert keeps its menu


async def test_legacy_timeout_button_applies_the_default(fake: FakeDiscord, bot: RunningClient) -> None:
    _, alert = await flagged_alert(fake, bot)
    flag_id = flag_id_of(alert)
    # An alert posted before the menu existed: five buttons, the fourth `…:timeout` with the default.
    labels = {"dismiss": "Dismiss", "uphold": "Uphold", "delete": "Delete message", "timeout": "Time out 30 min"}
    legacy = [
        {"type": BUTTON, "style": 4, "label": labels.get(a, "Ban"), "custom_id": f"dosewise:flag:{flag_id}:{a}"}
        for a in ("dismiss", "uphold", "delete", "timeout", "ban")
    ]
    fake.messages[int(alert["id"])]["components"] = [{"type": 1, "components": legacy}]
    since = len(fake.requests)
    await click(fake, bot, fake.bob, int(alert["id"]), f"dosewise:flag:{flag_id}:timeout")
    member = rf"/guilds/{fake.guild_id}/members/{fake.alice.id}"
    # One review, one timeout: the menu, which shares the button's id, leaves the click alone.
    [patch] = [r for r in fake.calls("PATCH", member) if fake.requests.index(r) >= since]
    assert abs(until(patch) - (datetime.now(UTC) + timedelta(minutes=30))) < timedelta(minutes=1)
    assert fields_of(alert_edits(fake, since)[-1])["Actions"] == f"<@{fake.alice.id}> timed out for 30 min."
    assert len(fake.calls("POST", CALLBACK)) == 1
    audit = await bot.core.audit(flag_id)
    assert [e.action for e in audit if e.action == "timeout"] == ["timeout"]


async def test_moderator_ban_click(fake: FakeDiscord, bot: RunningClient) -> None:
    _, alert = await flagged_alert(fake, bot)
    since = len(fake.requests)
    await click(fake, bot, fake.bob, int(alert["id"]), f"dosewise:flag:{flag_id_of(alert)}:ban")
    await fake.wait_for_request("PUT", rf"/guilds/{fake.guild_id}/bans/{fake.alice.id}", since=since)
    assert fake.alice.id in fake.bans


async def test_non_moderator_click_is_refused(fake: FakeDiscord, bot: RunningClient) -> None:
    message, alert = await flagged_alert(fake, bot)
    flag_id = flag_id_of(alert)
    since = len(fake.requests)
    await click(fake, bot, fake.alice, int(alert["id"]), f"dosewise:flag:{flag_id}:dismiss")
    callback = await fake.wait_for_request("POST", CALLBACK, since=since)
    assert callback.body["type"] == 4
    assert callback.body["data"]["flags"] & EPHEMERAL
    assert "Only moderators" in callback.body["data"]["content"]
    assert (await bot.core.get_flag(flag_id)).status is FlagStatus.OPEN
    assert custom_ids(fake.messages[int(alert["id"])])  # the alert keeps its buttons
    assert int(message["id"]) in fake.messages
    assert [r.method for r in fake.requests[since:]] == ["POST"]


async def test_second_review_changes_nothing(fake: FakeDiscord, bot: RunningClient) -> None:
    _, alert = await flagged_alert(fake, bot)
    flag_id = flag_id_of(alert)
    await click(fake, bot, fake.bob, int(alert["id"]), f"dosewise:flag:{flag_id}:dismiss")
    since = len(fake.requests)
    # A second click on a stale copy of the alert (e.g. another moderator's client).
    fake.messages[int(alert["id"])] = alert
    await click(fake, bot, fake.carol, int(alert["id"]), f"dosewise:flag:{flag_id}:ban")
    answer = await fake.wait_for_request("POST", FOLLOWUP, since=since)
    assert answer.body["flags"] & EPHEMERAL
    assert "already dismissed" in answer.body["content"]
    assert not fake.bans and not alert_edits(fake, since)


async def test_missing_permission_is_said_in_the_alert(fake: FakeDiscord, bot: RunningClient) -> None:
    message, alert = await flagged_alert(fake, bot)
    fake.fail("DELETE", rf"/channels/{fake.general_id}/messages/{message['id']}", 403)
    since = len(fake.requests)
    await click(fake, bot, fake.bob, int(alert["id"]), f"dosewise:flag:{flag_id_of(alert)}:delete")
    actions = fields_of(alert_edits(fake, since)[-1])["Actions"]
    assert "Could not delete the message" in actions and "Manage Messages" in actions and "403" in actions
    assert int(message["id"]) in fake.messages


async def test_member_left_before_timeout(fake: FakeDiscord, bot: RunningClient) -> None:
    _, alert = await flagged_alert(fake, bot)
    fake.fail("GET", rf"/guilds/{fake.guild_id}/members/{fake.alice.id}", 404)
    since = len(fake.requests)
    await pick(fake, bot, fake.bob, int(alert["id"]), f"dosewise:flag:{flag_id_of(alert)}:timeout", "60")
    assert "no longer a member" in fields_of(alert_edits(fake, since)[-1])["Actions"]


async def test_report_context_menu(fake: FakeDiscord, bot: RunningClient) -> None:
    message = await fake.send_message(fake.carol, "ask me privately for the good stuff")
    await screened(bot, int(message["id"]))
    since = len(fake.requests)
    await fake.context_menu(fake.alice, "Report to moderators", int(message["id"]))
    callback = await fake.wait_for_request("POST", CALLBACK, since=since)
    assert callback.body["type"] == 5 and callback.body["data"]["flags"] & EPHEMERAL  # private "thinking…"
    thanks = await fake.wait_for_request("POST", FOLLOWUP, since=since)
    assert thanks.body["flags"] & EPHEMERAL
    assert "moderators have been told" in thanks.body["content"]
    posted = await fake.wait_for_request("POST", alert_path(fake), since=since)
    embed = posted.body["embeds"][0]
    assert embed["title"].endswith("Reported message")
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert f"<@{fake.alice.id}>" in fields["Reported by"]
    [flag] = await bot.core.pending_flags(str(fake.guild_id))
    assert flag.ref.message_id == message["id"] and flag.reporter is not None


async def test_flags_commands_for_moderators_only(fake: FakeDiscord, bot: RunningClient) -> None:
    _, alert = await flagged_alert(fake, bot)
    flag_id = flag_id_of(alert)

    since = len(fake.requests)
    await fake.slash(fake.bob, "flags", [{"name": "list", "type": 1, "options": []}])
    listing = await fake.wait_for_request("POST", CALLBACK, since=since)
    assert listing.body["data"]["flags"] & EPHEMERAL
    assert f"#{flag_id}" in listing.body["data"]["embeds"][0]["description"]

    since = len(fake.requests)
    await fake.slash(
        fake.bob, "flags", [{"name": "show", "type": 1, "options": [{"name": "flag_id", "type": 4, "value": flag_id}]}]
    )
    shown = await fake.wait_for_request("POST", CALLBACK, since=since)
    assert shown.body["data"]["embeds"][0]["title"].startswith(f"Flag #{flag_id}")
    assert f"dosewise:flag:{flag_id}:dismiss" in custom_ids(shown.body["data"])

    # Discord hides /flags from members without Manage Messages, but the bot checks again anyway.
    since = len(fake.requests)
    await fake.slash(fake.alice, "flags", [{"name": "list", "type": 1, "options": []}])
    refused = await fake.wait_for_request("POST", CALLBACK, since=since)
    assert "Only moderators" in refused.body["data"]["content"]
    assert "embeds" not in refused.body["data"] or not refused.body["data"]["embeds"]


async def test_review_from_flags_show_updates_the_channel_alert(fake: FakeDiscord, bot: RunningClient) -> None:
    _, alert = await flagged_alert(fake, bot)
    flag_id = flag_id_of(alert)
    await fake.slash(
        fake.bob, "flags", [{"name": "show", "type": 1, "options": [{"name": "flag_id", "type": 4, "value": flag_id}]}]
    )
    shown = await fake.wait_for_request("POST", CALLBACK)
    private_id = int(fake.response_message(shown)["id"])
    since = len(fake.requests)
    await click(fake, bot, fake.bob, private_id, f"dosewise:flag:{flag_id}:uphold")
    edit = await fake.wait_for_request("PATCH", rf"{alert_path(fake)}/{alert['id']}", since=since)
    assert edit.body["components"] == []
    assert (await bot.core.get_flag(flag_id)).status is FlagStatus.UPHELD


async def test_buttons_work_after_a_restart(tmp_path: Path, fake: FakeDiscord) -> None:
    settings = bot_settings(tmp_path, fake)
    first = await start_bot(settings)
    try:
        message, alert = await flagged_alert(fake, first)
    finally:
        await stop_bot(first)

    second = await start_bot(settings)  # a new client and a new core on the same database
    try:
        assert second.client is not first.client
        flag_id = flag_id_of(alert)
        since = len(fake.requests)
        await click(fake, second, fake.bob, int(alert["id"]), f"dosewise:flag:{flag_id}:delete")
        assert "delete" in fields_of(alert_edits(fake, since)[0])["Review"]
        await fake.wait_for_request("DELETE", rf"/channels/{fake.general_id}/messages/{message['id']}", since=since)
        assert (await second.core.get_flag(flag_id)).action is ModAction.DELETE
    finally:
        await stop_bot(second)


async def test_timeout_menu_works_after_a_restart(tmp_path: Path, fake: FakeDiscord) -> None:
    settings = bot_settings(tmp_path, fake)
    first = await start_bot(settings)
    try:
        _, alert = await flagged_alert(fake, first)
    finally:
        await stop_bot(first)

    second = await start_bot(settings)
    try:
        flag_id = flag_id_of(alert)
        since = len(fake.requests)
        await pick(fake, second, fake.bob, int(alert["id"]), f"dosewise:flag:{flag_id}:timeout", "10")
        patch = await fake.wait_for_request("PATCH", rf"/guilds/{fake.guild_id}/members/{fake.alice.id}", since=since)
        assert abs(until(patch) - (datetime.now(UTC) + timedelta(minutes=10))) < timedelta(minutes=1)
        assert "for 10 min" in fields_of(alert_edits(fake, since)[0])["Review"]
        assert (await second.core.get_flag(flag_id)).action is ModAction.TIMEOUT
    finally:
        await stop_bot(second)


async def test_hide_mode_deletes_at_once_and_says_so(tmp_path: Path, fake: FakeDiscord) -> None:
    from dataclasses import replace

    settings = bot_settings(tmp_path, fake)
    settings = replace(settings, policy=replace(settings.policy, mode="hide"))
    running = await start_bot(settings)
    try:
        message, alert = await flagged_alert(fake, running)
        assert fake.calls("DELETE", rf"/channels/{fake.general_id}/messages/{message['id']}")
        actions = {f["name"]: f["value"] for f in alert["embeds"][0]["fields"]}["Actions"]
        assert "deleted automatically" in actions
        assert int(message["id"]) not in fake.messages
    finally:
        await stop_bot(running)


async def test_sharded_client_connects_every_shard(tmp_path: Path, fake: FakeDiscord) -> None:
    running = await start_bot(bot_settings(tmp_path, fake, shard_count=2, shard_ids=(0, 1)))
    try:
        assert isinstance(running.client, discord.AutoShardedClient)
        shards = sorted(s.shard for s in fake.sessions if s.identify is not None)
        assert shards == [(0, 2), (1, 2)]
        await flagged_alert(fake, running)
    finally:
        await stop_bot(running)


async def test_embed_unfurl_updates_are_not_edits(fake: FakeDiscord, bot: RunningClient) -> None:
    # Discord sends MESSAGE_UPDATE without an edit time when a link preview appears: not a member's edit.
    old = fake.message_payload(fake.general_id, fake.alice, OFFER)
    fake.messages[int(old["id"])] = old
    await fake.dispatch("MESSAGE_UPDATE", old)
    clean = await fake.send_message(fake.alice, CLEAN)
    await screened(bot, int(clean["id"]))
    assert not fake.calls("POST", alert_path(fake))
    assert not await bot.core.flags()


async def test_unknown_button_action_changes_nothing(fake: FakeDiscord, bot: RunningClient) -> None:
    _, alert = await flagged_alert(fake, bot)
    flag_id = flag_id_of(alert)
    fake.messages[int(alert["id"])]["components"][0]["components"][0]["custom_id"] = f"dosewise:flag:{flag_id}:nuke"
    since = len(fake.requests)
    await click(fake, bot, fake.bob, int(alert["id"]), f"dosewise:flag:{flag_id}:nuke")
    answer = await fake.wait_for_request("POST", CALLBACK, since=since)
    assert answer.body["data"]["flags"] & EPHEMERAL and "Unknown review action" in answer.body["data"]["content"]
    assert (await bot.core.get_flag(flag_id)).status is FlagStatus.OPEN


async def test_a_server_override_moves_alerts_and_changes_who_reviews(tmp_path: Path, fake: FakeDiscord) -> None:
    from dataclasses import replace

    from dosewise.settings import Policy

    settings = bot_settings(tmp_path, fake)
    override = Policy(mod_channel="general", moderators=("Stewards",))
    running = await start_bot(replace(settings, servers={str(fake.guild_id): override}))
    try:
        _, alert = await flagged_alert(fake, running, REQUEST, channel_id=fake.post_id)
        assert alert["channel_id"] == str(fake.general_id)
        flag_id = flag_id_of(alert)
        # bob's "Moderator" role is not this server's moderator role: refused, nothing changes.
        await click(fake, running, fake.bob, int(alert["id"]), f"dosewise:flag:{flag_id}:dismiss")
        assert (await running.core.get_flag(flag_id)).status is FlagStatus.OPEN
        # carol has Manage Messages, which always counts.
        await click(fake, running, fake.carol, int(alert["id"]), f"dosewise:flag:{flag_id}:uphold")
        assert (await running.core.get_flag(flag_id)).status is FlagStatus.UPHELD
    finally:
        await stop_bot(running)


async def test_retention_removes_the_text_from_the_alert_too(fake: FakeDiscord, bot: RunningClient) -> None:
    from dosewise.models import utcnow

    _, alert = await flagged_alert(fake, bot)
    flag_id = flag_id_of(alert)
    assert "selling shrooms" in alert["embeds"][0]["description"]
    assert await bot.core.purge(utcnow() + timedelta(days=31)) == 1
    await bot.core.moderation.idle()
    assert await bot.core.moderation.clear_purged_alerts() == 1
    edited = fake.messages[int(alert["id"])]
    assert "shrooms" not in str(edited["embeds"]) and "purged" in edited["embeds"][0]["description"]
    assert custom_ids(edited) == custom_ids(alert)  # still open, still reviewable
    assert await bot.core.moderation.clear_purged_alerts() == 0
    assert (await bot.core.get_flag(flag_id)).text_purged
