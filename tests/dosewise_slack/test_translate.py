"""Slack payloads → core requests, without a network."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from dosewise.models import ModAction
from dosewise_slack.translate import (
    PayloadError,
    button_id,
    command_text,
    interaction_place,
    parse_button_id,
    parse_form,
    plain_text,
    request_kind,
    to_command_request,
    to_incoming_message,
    to_report_request,
    to_review_requests,
)


def envelope(event: dict[str, Any], event_id: str = "Ev1") -> dict[str, Any]:
    return {"type": "event_callback", "team_id": "T1", "event_id": event_id, "event": event}


def message(**extra: Any) -> dict[str, Any]:
    return {"type": "message", "channel": "C1", "user": "U1", "text": "hello", "ts": "1700000000.000100", **extra}


def test_button_ids_round_trip_and_reject_strangers() -> None:
    for action in ModAction:
        assert parse_button_id(button_id(42, action)) == (42, action)
    assert button_id(7, ModAction.DELETE) == "dosewise:flag:7:delete"
    assert parse_button_id("dosewise:flag:-3:uphold") == (-3, ModAction.UPHOLD)
    for bad in ("dosewise:flag:x:delete", "dosewise:flag:7:explode", "other:7:dismiss", "dosewise:flag:7:"):
        with pytest.raises(PayloadError):
            parse_button_id(bad)


def test_command_text_help_means_the_topic_list() -> None:
    assert command_text("  help ") == ""
    assert command_text("HELP") == ""
    assert command_text("") == ""
    assert command_text("  does   it help  anxiety ") == "does it help anxiety"


def test_slash_command_form() -> None:
    body = {
        "command": "/microdosing",
        "text": "anxiety",
        "user_id": "U1",
        "user_name": "alice",
        "channel_id": "C1",
        "team_id": "T1",
        "response_url": "https://hooks.slack.com/x",
    }
    assert request_kind(body) == "command"
    request = to_command_request(body)
    assert (request.platform, request.server_id, request.channel_id, request.text) == ("slack", "T1", "C1", "anxiety")
    assert request.user.id == "U1" and request.user.name == "alice"
    with pytest.raises(PayloadError):
        request_kind({k: v for k, v in body.items() if k != "user_id"})


def test_new_message_is_translated_with_event_id_and_plain_text() -> None:
    body = envelope(message(text="dm me &lt;here&gt; <@U2|bob> see <https://t.me/plug|t.me/plug> &amp; <!here>"))
    incoming = to_incoming_message(body, bot_user_id="UBOT")
    assert incoming is not None
    assert incoming.ref.platform == "slack"
    ref = incoming.ref
    assert (ref.server_id, ref.channel_id, ref.message_id) == ("T1", "C1", "1700000000.000100")
    assert incoming.author.id == "U1"
    assert incoming.event_id == "Ev1"
    assert not incoming.edited
    assert incoming.text == "dm me <here> @bob see https://t.me/plug & @here"
    assert incoming.sent_at.tzinfo is not None


def test_thread_replies_and_broadcasts_are_screened() -> None:
    assert to_incoming_message(envelope(message(thread_ts="1699999999.000001"))) is not None
    assert to_incoming_message(envelope(message(subtype="thread_broadcast"))) is not None
    assert to_incoming_message(envelope(message(subtype="file_share"))) is not None


@pytest.mark.parametrize(
    "event",
    [
        message(bot_id="B1"),
        message(subtype="bot_message", bot_id="B1"),
        message(user="UBOT"),
        message(subtype="channel_join"),
        message(subtype="message_deleted"),
        message(subtype="message_replied"),
        message(channel_type="im"),
        {"type": "message", "channel": "C1", "ts": "1.0", "text": "no user"},
        {"type": "reaction_added", "user": "U1"},
    ],
)
def test_not_member_content_is_skipped(event: dict[str, Any]) -> None:
    assert to_incoming_message(envelope(event), bot_user_id="UBOT") is None


def test_edit_is_translated_and_unfurls_are_skipped() -> None:
    edit = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "C1",
        "ts": "1700000050.000001",
        "event_ts": "1700000050.000001",
        "message": message(text="new text", edited={"user": "U1", "ts": "1700000050.000000"}),
        "previous_message": message(text="old text"),
    }
    incoming = to_incoming_message(envelope(edit, "Ev2"))
    assert incoming is not None
    assert incoming.edited and incoming.text == "new text" and incoming.ref.message_id == "1700000000.000100"
    assert incoming.event_id == "Ev2"
    unfurl = {**edit, "previous_message": message(text="new text")}
    assert to_incoming_message(envelope(unfurl)) is None
    bot_edit = {**edit, "message": message(text="x", bot_id="B1")}
    assert to_incoming_message(envelope(bot_edit)) is None


def test_block_actions_become_review_requests() -> None:
    body = {
        "type": "block_actions",
        "user": {"id": "UMOD", "username": "mia", "team_id": "T1"},
        "container": {"type": "message", "channel_id": "CMOD", "message_ts": "1.2"},
        "channel": {"id": "CMOD"},
        "actions": [{"action_id": button_id(3, ModAction.UPHOLD), "value": button_id(3, ModAction.UPHOLD)}],
    }
    assert request_kind(body) == "block_actions"
    (request,) = to_review_requests(body, is_moderator=True)
    assert (request.flag_id, request.action, request.moderator.id, request.moderator.name) == (
        3,
        ModAction.UPHOLD,
        "UMOD",
        "mia",
    )
    assert request.moderator.is_moderator
    assert interaction_place(body) == ("message", "CMOD")
    # The id in the value alone is enough (e.g. a button whose action_id was made unique otherwise).
    by_value = {**body, "actions": [{"action_id": "x", "value": button_id(4, ModAction.BAN)}]}
    assert [(r.flag_id, r.action) for r in to_review_requests(by_value, is_moderator=False)] == [(4, ModAction.BAN)]
    home = {**body, "container": {"type": "view", "view_id": "V1"}}
    assert interaction_place(home) == ("view", "")


@pytest.mark.parametrize(
    "body",
    [
        [],
        "text",
        {},
        {"type": "block_actions", "user": {"id": "U1"}},
        {"type": "block_actions", "user": {"id": "U1"}, "actions": []},
        {"type": "block_actions", "user": {"id": "U1"}, "actions": ["x"]},
        {"type": "block_actions", "actions": [{"action_id": "a"}]},
        {"type": "event_callback", "team_id": "T1"},
        {"type": "event_callback", "team_id": "T1", "event": "nope"},
        {"type": "message_action", "callback_id": "dosewise_report", "team": {"id": "T1"}},
        {"type": "url_verification"},
        {"command": "/microdosing"},
        {"type": 5},
    ],
)
def test_malformed_envelopes_raise_payload_error(body: Any) -> None:
    with pytest.raises(PayloadError):
        request_kind(body)


def test_report_shortcut() -> None:
    body = {
        "type": "message_action",
        "callback_id": "dosewise_report",
        "team": {"id": "T1"},
        "channel": {"id": "C1"},
        "user": {"id": "U9", "username": "rep"},
        "message": {"type": "message", "user": "U1", "ts": "1700000000.000100", "text": "selling &lt;tabs&gt;"},
        "response_url": "https://hooks.slack.com/r",
    }
    assert request_kind(body) == "message_action"
    report = to_report_request(body)
    assert report.reporter.id == "U9"
    assert report.message.author.id == "U1"
    assert report.message.text == "selling <tabs>"
    assert report.message.ref.message_id == "1700000000.000100"
    bot_post = {**body, "message": {"type": "message", "bot_id": "B7", "ts": "1.0", "text": "x"}}
    assert to_report_request(bot_post).message.author.is_bot


def test_plain_text_keeps_links_readable() -> None:
    assert plain_text("<https://example.org>") == "https://example.org"
    assert plain_text("<https://example.org|site>") == "site (https://example.org)"
    assert plain_text("<#C1|general> <!subteam^S1|@mods> <!channel>") == "#general @mods @channel"


@pytest.mark.parametrize(
    "body",
    [
        urlencode({"command": "/microdosing", "text": "does it help? 100% + ünïcode & more=yes", "user_id": "U1"}),
        urlencode({"text": "", "response_url": "https://hooks.slack.com/commands/T1/1/abc?x=1&y=2"}),
        "a=1&&b=&c&d=x+y&e=%zz&f=%E2%9C%93",
    ],
)
def test_parse_form_agrees_with_parse_qsl(body: str) -> None:
    assert parse_form(body) == dict(parse_qsl(body, keep_blank_values=True))


def test_parse_form_keeps_the_first_of_repeated_fields() -> None:
    assert parse_form("command=%2Fmicrodosing&command=%2Fother") == {"command": "/microdosing"}
