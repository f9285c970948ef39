"""The Slack adapter end to end: real Bolt app over HTTP, real core and SQLite, fake Slack Web API."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from dosewise.models import FlagStatus, ModAction, utcnow
from dosewise.settings import Policy
from dosewise_slack.translate import button_id
from tests.dosewise_slack.conftest import (
    GROUP_MODERATOR,
    MEMBER,
    MOD_CHANNEL,
    MODERATOR,
    ORDINARY,
    SOURCING,
    Harness,
    HarnessFactory,
    button_payload,
    edit_event,
    message_event,
    sign,
)
from tests.dosewise_slack.fake_slack import ADMIN_TOKEN, BOT_TOKEN, TEAM_ID


def blocks_text(params: dict[str, Any]) -> str:
    return json.dumps(params.get("blocks") or params.get("view"), ensure_ascii=False)


def alert_container(channel: str, ts: str) -> dict[str, Any]:
    return {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False}


async def recorded_alert(h: Harness, flag_id: int) -> tuple[str, str]:
    flag = await h.core.get_flag(flag_id)
    assert flag.alert_ref is not None
    return flag.alert_ref.channel_id, flag.alert_ref.message_id


# -- handshake and security ----------------------------------------------------------------------------


async def test_url_verification_echoes_the_challenge(harness: Harness) -> None:
    status, body = await harness.post(
        json.dumps(
            {
                "token": "t",
                "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                "type": "url_verification",
            }
        ),
        "application/json",
    )
    assert status == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in body


def unsigned_routes() -> list[tuple[str, str]]:
    """One request for every route Slack uses: slash command, event, button, shortcut, URL check."""
    form = "application/x-www-form-urlencoded"
    command = {
        "command": "/microdosing",
        "text": "anxiety",
        "user_id": MEMBER,
        "channel_id": "C1",
        "team_id": TEAM_ID,
        "response_url": "http://127.0.0.1:9/evil",
    }
    event = {"type": "event_callback", "team_id": TEAM_ID, "event_id": "EvX", "event": message_event(SOURCING, "1.0")}
    button = button_payload(
        button_id(1, ModAction.BAN), user=MODERATOR, container=alert_container(MOD_CHANNEL, "1700000000.000001")
    )
    report = {
        "type": "message_action",
        "callback_id": "dosewise_report",
        "team": {"id": TEAM_ID},
        "user": {"id": MEMBER},
        "channel": {"id": "C0GENERAL"},
        "message_ts": "1.0",
        "message": {"type": "message", "user": MEMBER, "text": SOURCING, "ts": "1.0"},
    }
    return [
        (urlencode(command), form),
        (json.dumps(event), "application/json"),
        (urlencode({"payload": json.dumps(button)}), form),
        (urlencode({"payload": json.dumps(report)}), form),
        (json.dumps({"token": "t", "challenge": "evil-challenge", "type": "url_verification"}), "application/json"),
    ]


@pytest.mark.parametrize(
    ("secret", "timestamp"),
    [
        ("wrong-secret", None),
        ("test-signing-secret-0123456789", str(int(time.time()) - 10 * 60)),
        ("test-signing-secret-0123456789", str(int(time.time()) + 10 * 60)),
        ("test-signing-secret-0123456789", "not-a-number"),
    ],
    ids=["bad-signature", "stale-timestamp", "future-timestamp", "garbage-timestamp"],
)
async def test_unsigned_requests_get_401_and_run_nothing(harness: Harness, secret: str, timestamp: str | None) -> None:
    # Bolt's own signature check is off: the front door is the only check, so every route is tried.
    for body, content_type in unsigned_routes():
        status, text = await harness.post(body, content_type, secret=secret, timestamp=timestamp)
        assert status == 401, body
        assert "evil-challenge" not in text and "blocks" not in text
    await harness.settle()
    assert harness.fake.calls == [] and harness.fake.responses == []
    assert await harness.core.pending_flags(TEAM_ID) == []


async def test_requests_without_signature_headers_get_401(harness: Harness) -> None:
    for body, content_type in unsigned_routes():
        async with harness.http.post(harness.url, data=body.encode(), headers={"Content-Type": content_type}) as r:
            assert r.status == 401
    await harness.settle()
    assert harness.fake.calls == [] and await harness.core.pending_flags(TEAM_ID) == []


async def test_a_signed_body_altered_in_transit_gets_401(harness: Harness) -> None:
    for body, content_type in unsigned_routes():
        ts = str(int(time.time()))
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sign(body, ts)}
        async with harness.http.post(harness.url, data=(body + " ").encode(), headers=headers) as r:
            assert r.status == 401
    await harness.settle()
    assert harness.fake.calls == [] and await harness.core.pending_flags(TEAM_ID) == []


async def test_signed_requests_on_every_route_are_accepted(harness: Harness) -> None:
    # The counterpart of the 401 tests: the same requests, correctly signed, get through.
    for body, content_type in unsigned_routes():
        status, _ = await harness.post(body, content_type)
        assert status == 200, body
    await harness.settle()
    # The event raised flag #1 (an alert), the button upheld it (the alert updated), the report was thanked.
    assert harness.fake.calls_to("chat.postMessage") and harness.fake.calls_to("chat.update")
    assert harness.fake.calls_to("chat.postEphemeral")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("payload=%7Bnot+json", "application/x-www-form-urlencoded"),
        ("payload=" + json.dumps([1, 2]), "application/x-www-form-urlencoded"),
        ('{"type": "event_callback", "team_id": "T0TEAM"', "application/json"),
        ('{"type": "event_callback", "team_id": "T0TEAM"}', "application/json"),
        ('{"type": "event_callback", "team_id": "T0TEAM", "event": []}', "application/json"),
        (
            urlencode({"payload": json.dumps({"type": "block_actions", "user": {"id": "U1"}})}),
            "application/x-www-form-urlencoded",
        ),
        (
            urlencode(
                {
                    "payload": json.dumps(
                        {"type": "block_actions", "actions": [{"action_id": button_id(1, ModAction.BAN)}]}
                    )
                }
            ),
            "application/x-www-form-urlencoded",
        ),
        (
            urlencode(
                {
                    "payload": json.dumps(
                        {"type": "message_action", "callback_id": "dosewise_report", "user": {"id": "U1"}}
                    )
                }
            ),
            "application/x-www-form-urlencoded",
        ),
        (urlencode({"command": "/microdosing", "text": "x"}), "application/x-www-form-urlencoded"),
        ("[]", "application/json"),
    ],
)
async def test_malformed_payloads_get_400_and_no_traceback(
    harness: Harness, body: str, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    status, _ = await harness.post(body, content_type)
    assert status == 400
    await harness.settle()
    assert harness.fake.calls == []
    assert not [r for r in caplog.records if r.exc_info]
    assert any("malformed" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


# -- /microdosing ----------------------------------------------------------------------------------------


def command_answer(h: Harness, status: int, body: str) -> dict[str, Any]:
    """The answer carried by a slash command's HTTP response; no response_url was used for it."""
    assert status == 200
    answer: dict[str, Any] = json.loads(body)
    assert h.fake.responses == [] and web_api_calls(h) == []
    return answer


def web_api_calls(h: Harness) -> list[str]:
    """Web API methods called so far, less Bolt's one-off `auth.test` (cached for the app's life)."""
    return [c.method for c in h.fake.calls if c.method != "auth.test"]


async def test_slash_command_answers_ephemerally_in_the_ack_with_sources(harness: Harness) -> None:
    answer = command_answer(harness, *await harness.command("anxiety", key="a1"))
    await harness.settle()
    assert harness.fake.responses == [] and web_api_calls(harness) == []
    assert answer["response_type"] == "ephemeral"
    assert answer["text"]
    kinds = [b["type"] for b in answer["blocks"]]
    assert kinds[0] == "header" and "section" in kinds and len(kinds) <= 50
    text = json.dumps(answer["blocks"])
    assert "*Sources*" in text and "<https://" in text
    assert all(len(b["text"]["text"]) <= 3000 for b in answer["blocks"] if b["type"] == "section" and "text" in b)


@pytest.mark.parametrize("text", ["", "help", "  HELP "])
async def test_slash_command_alone_or_help_lists_the_topics(harness: Harness, text: str) -> None:
    answer = command_answer(harness, *await harness.command(text, key="topics"))
    assert "/microdosing anxiety" in json.dumps(answer["blocks"])


async def test_slash_command_refuses_sourcing_requests(harness: Harness) -> None:
    answer = command_answer(harness, *await harness.command("where can i buy shrooms", key="buy"))
    assert answer["response_type"] == "ephemeral" and answer["text"]


async def test_answer_in_channel_is_posted_for_everyone(make_harness: HarnessFactory) -> None:
    h = await make_harness(answer_in_channel=True)
    answer = command_answer(h, *await h.command("anxiety", key="pub"))
    await h.settle()
    assert answer["response_type"] == "in_channel"
    assert h.fake.responses == [] and web_api_calls(h) == []


async def test_share_posts_one_answer_for_the_channel_and_the_rest_stay_private(harness: Harness) -> None:
    shared = command_answer(harness, *await harness.command("share anxiety", key="s1"))
    private = command_answer(harness, *await harness.command("anxiety", key="s2"))
    assert shared["response_type"] == "in_channel" and private["response_type"] == "ephemeral"
    assert shared["blocks"] == private["blocks"]
    # "share" alone is not a topic: the topic list, privately, with the hint how to share.
    listed = command_answer(harness, *await harness.command("share", key="s3"))
    assert listed["response_type"] == "ephemeral" and "/microdosing share TOPIC" in json.dumps(listed["blocks"])


async def test_authorization_is_not_looked_up_per_request(harness: Harness) -> None:
    for n in range(5):
        command_answer(harness, *await harness.command("anxiety", key=f"k{n}"))
    for n in range(5):
        assert (await harness.event(message_event(ORDINARY, f"1700000000.00{n:04d}")))[0] == 200
    await harness.settle()
    assert len(harness.fake.calls_to("auth.test")) <= 1


# -- screening -------------------------------------------------------------------------------------------


async def test_sourcing_message_posts_one_alert_and_records_it(harness: Harness) -> None:
    assert (await harness.event(message_event(ORDINARY, "1700000000.000001")))[0] == 200
    assert (await harness.event(message_event(SOURCING, "1700000000.000002", thread_ts="1700000000.000001")))[0] == 200
    await harness.settle()
    (alert,) = harness.fake.calls_to("chat.postMessage")
    assert alert.token == BOT_TOKEN
    assert alert.params["channel"] == MOD_CHANNEL
    text = blocks_text(alert.params)
    (flag,) = await harness.core.pending_flags(TEAM_ID)
    assert f"Flag #{flag.id}" in text and f"<@{MEMBER}>" in text
    for action in ModAction:
        assert button_id(flag.id, action) in text
    assert "/archives/C0GENERAL/p1700000000000002" in text
    assert all(f"`{r.rule}`" in text for r in flag.reasons[:10])
    channel, ts = await recorded_alert(harness, flag.id)
    assert channel == MOD_CHANNEL and ts.startswith("1700000000.")


async def test_retries_and_duplicate_deliveries_never_duplicate_flags(harness: Harness) -> None:
    event = message_event(SOURCING, "1700000000.000100")
    for retry in (None, 1, 2):
        status, _ = await harness.event(event, event_id="EvSAME", retry=retry)
        assert status == 200
    await harness.settle()
    # The same message delivered again under another event id is still one flag.
    await harness.event(event, event_id="EvOTHER")
    await harness.settle()
    assert len(await harness.core.pending_flags(TEAM_ID)) == 1
    assert len(harness.fake.calls_to("chat.postMessage")) == 1


async def test_bot_and_non_content_messages_are_not_screened(harness: Harness) -> None:
    await harness.event(message_event(SOURCING, "1.000001", bot_id="B0OTHER", subtype="bot_message"))
    await harness.event(message_event(SOURCING, "1.000002", user="U0BOT"))
    await harness.event(message_event(SOURCING, "1.000003", subtype="channel_join"))
    await harness.settle()
    assert await harness.core.pending_flags(TEAM_ID) == []
    assert harness.fake.calls_to("chat.postMessage") == []


async def test_editing_a_flagged_message_updates_its_alert(harness: Harness) -> None:
    ts = "1700000000.000300"
    await harness.event(message_event(SOURCING, ts))
    await harness.settle()
    (flag,) = await harness.core.pending_flags(TEAM_ID)
    channel, alert_ts = await recorded_alert(harness, flag.id)
    await harness.event(edit_event(SOURCING, "never mind, ignore that", ts))
    await harness.settle()
    (update,) = harness.fake.calls_to("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (channel, alert_ts)
    text = blocks_text(update.params)
    assert "never mind, ignore that" in text and "As first flagged" in text
    assert len(harness.fake.calls_to("chat.postMessage")) == 1


async def test_editing_a_clean_message_into_sourcing_raises_a_flag(harness: Harness) -> None:
    ts = "1700000000.000400"
    await harness.event(message_event(ORDINARY, ts))
    await harness.event(edit_event(ORDINARY, SOURCING, ts))
    await harness.settle()
    (flag,) = await harness.core.pending_flags(TEAM_ID)
    assert flag.ref.message_id == ts
    assert len(harness.fake.calls_to("chat.postMessage")) == 1


async def test_retention_removes_the_text_from_the_alert_too(harness: Harness) -> None:
    harness.core.attach_alert_clearer("slack", harness.bot.clear_alert)  # as `run_slack` does
    await harness.event(message_event(SOURCING, "1700000000.000650"))
    await harness.settle()
    (flag,) = await harness.core.pending_flags(TEAM_ID)
    channel, ts = await recorded_alert(harness, flag.id)
    assert await harness.core.purge(utcnow() + timedelta(days=31)) == 1
    await harness.core.moderation.idle()
    assert await harness.core.moderation.clear_purged_alerts() == 1
    (update,) = harness.fake.calls_to("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (channel, ts)
    sent = blocks_text(update.params) + update.params["text"]
    assert "purged after the retention period" in sent
    assert "telegram" not in sent.lower() and "fungiplug" not in sent
    assert button_id(flag.id, ModAction.UPHOLD) in sent  # still open: still reviewable
    # Done once: the next round finds nothing to clear.
    assert await harness.core.moderation.clear_purged_alerts() == 0
    assert len(harness.fake.calls_to("chat.update")) == 1


# -- reviews ---------------------------------------------------------------------------------------------


async def test_a_workspace_override_picks_its_own_mod_channel_and_moderators(make_harness: HarnessFactory) -> None:
    h = await make_harness(servers={TEAM_ID: Policy(mod_channel="C0STEWARDS", moderators=(MEMBER,))})
    await h.event(message_event(SOURCING, "1700000000.000700"))
    await h.settle()
    (alert,) = h.fake.calls_to("chat.postMessage")
    assert alert.params["channel"] == "C0STEWARDS"
    (flag,) = await h.core.pending_flags(TEAM_ID)
    where = alert_container(*await recorded_alert(h, flag.id))
    # The platform-wide moderator is not one of this workspace's: refused, nothing changes.
    await h.interaction(button_payload(button_id(flag.id, ModAction.DISMISS), user=MODERATOR, container=where))
    await h.settle()
    (refusal,) = h.fake.calls_to("chat.postEphemeral")
    assert refusal.params["user"] == MODERATOR and "Only moderators" in refusal.params["text"]
    assert (await h.core.get_flag(flag.id)).status is FlagStatus.OPEN
    # The workspace's own moderator reviews it.
    await h.interaction(button_payload(button_id(flag.id, ModAction.UPHOLD), user=MEMBER, container=where))
    await h.settle()
    assert (await h.core.get_flag(flag.id)).status is FlagStatus.UPHELD
    (update,) = h.fake.calls_to("chat.update")
    assert update.params["channel"] == "C0STEWARDS" and f"Upheld* by <@{MEMBER}>" in blocks_text(update.params)


async def test_non_moderator_button_gets_an_ephemeral_refusal_and_changes_nothing(harness: Harness) -> None:
    await harness.event(message_event(SOURCING, "1700000000.000500"))
    await harness.settle()
    (flag,) = await harness.core.pending_flags(TEAM_ID)
    channel, ts = await recorded_alert(harness, flag.id)
    payload = button_payload(button_id(flag.id, ModAction.DISMISS), user=MEMBER, container=alert_container(channel, ts))
    status, _ = await harness.interaction(payload)
    assert status == 200
    await harness.settle()
    (refusal,) = harness.fake.calls_to("chat.postEphemeral")
    assert refusal.params["user"] == MEMBER and refusal.params["channel"] == channel
    assert "Only moderators" in refusal.params["text"]
    assert harness.fake.calls_to("chat.update") == []
    assert (await harness.core.get_flag(flag.id)).status is FlagStatus.OPEN
    actions = {e.action for e in await harness.core.audit(flag.id)}
    assert not actions & {a.value for a in ModAction}


async def test_moderator_uphold_updates_the_alert_in_place_and_is_audited(harness: Harness) -> None:
    await harness.event(message_event(SOURCING, "1700000000.000600"))
    await harness.settle()
    (flag,) = await harness.core.pending_flags(TEAM_ID)
    channel, ts = await recorded_alert(harness, flag.id)
    payload = button_payload(
        button_id(flag.id, ModAction.UPHOLD), user=MODERATOR, container=alert_container(channel, ts)
    )
    assert (await harness.interaction(payload))[0] == 200
    await harness.settle()
    (update,) = harness.fake.calls_to("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (channel, ts)
    text = blocks_text(update.params)
    assert f"Upheld* by <@{MODERATOR}>" in text
    assert '"actions"' not in text
    stored = await harness.core.get_flag(flag.id)
    assert stored.status is FlagStatus.UPHELD and stored.reviewed_by is not None
    assert stored.reviewed_by.id == MODERATOR
    assert "uphold" in [e.action for e in await harness.core.audit(flag.id)]

    # A second press (by anyone) changes nothing and says so.
    again = button_payload(
        button_id(flag.id, ModAction.DISMISS), user=GROUP_MODERATOR, container=alert_container(channel, ts)
    )
    await harness.interaction(again)
    await harness.settle()
    (notice,) = harness.fake.calls_to("chat.postEphemeral")
    assert "already" in notice.params["text"] and notice.params["user"] == GROUP_MODERATOR
    assert (await harness.core.get_flag(flag.id)).status is FlagStatus.UPHELD


async def test_delete_without_admin_token_says_to_remove_it_by_hand(harness: Harness) -> None:
    await harness.event(message_event(SOURCING, "1700000000.000700"))
    await harness.settle()
    (flag,) = await harness.core.pending_flags(TEAM_ID)
    channel, ts = await recorded_alert(harness, flag.id)
    # A member of the moderators' user group counts as a moderator.
    payload = button_payload(
        button_id(flag.id, ModAction.DELETE), user=GROUP_MODERATOR, container=alert_container(channel, ts)
    )
    await harness.interaction(payload)
    await harness.settle()
    assert harness.fake.calls_to("chat.delete") == []
    assert harness.fake.calls_to("usergroups.users.list")
    text = blocks_text(harness.fake.calls_to("chat.update")[-1].params)
    assert f"by <@{GROUP_MODERATOR}>" in text
    assert "cannot delete" in text and "by hand" in text


async def test_delete_with_admin_token_deletes_the_message(make_harness: HarnessFactory) -> None:
    h = await make_harness(admin_token=ADMIN_TOKEN)
    ts = "1700000000.000800"
    await h.event(message_event(SOURCING, ts))
    await h.settle()
    (flag,) = await h.core.pending_flags(TEAM_ID)
    channel, alert_ts = await recorded_alert(h, flag.id)
    await h.interaction(
        button_payload(
            button_id(flag.id, ModAction.DELETE), user=MODERATOR, container=alert_container(channel, alert_ts)
        )
    )
    await h.settle()
    (delete,) = h.fake.calls_to("chat.delete")
    assert delete.token == ADMIN_TOKEN
    assert (delete.params["channel"], delete.params["ts"]) == ("C0GENERAL", ts)
    text = blocks_text(h.fake.calls_to("chat.update")[-1].params)
    assert "The message was deleted." in text and "by hand" not in text


@pytest.mark.parametrize(
    ("action", "words"), [(ModAction.TIMEOUT, "Slack has no timeouts"), (ModAction.BAN, "Slack bots cannot ban")]
)
async def test_timeouts_and_bans_are_explained_as_manual(harness: Harness, action: ModAction, words: str) -> None:
    await harness.event(message_event(SOURCING, "1700000000.000900"))
    await harness.settle()
    (flag,) = await harness.core.pending_flags(TEAM_ID)
    channel, ts = await recorded_alert(harness, flag.id)
    await harness.interaction(
        button_payload(button_id(flag.id, action), user=MODERATOR, container=alert_container(channel, ts))
    )
    await harness.settle()
    assert words in blocks_text(harness.fake.calls_to("chat.update")[-1].params)
    assert (await harness.core.get_flag(flag.id)).status is FlagStatus.UPHELD


# -- report shortcut -------------------------------------------------------------------------------------


def report_payload(text: str, ts: str, *, reporter: str = "U0REPORTER") -> dict[str, Any]:
    return {
        "type": "message_action",
        "token": "legacy-verification-token",
        "action_ts": "1700000200.000001",
        "team": {"id": TEAM_ID, "domain": "dosewise-test"},
        "user": {"id": reporter, "username": "reporter", "team_id": TEAM_ID},
        "channel": {"id": "C0GENERAL", "name": "general"},
        "callback_id": "dosewise_report",
        "trigger_id": "1.2.3",
        "message_ts": ts,
        "message": {"type": "message", "user": MEMBER, "text": text, "ts": ts},
        "response_url": "http://127.0.0.1:9/unused",
    }


async def test_report_shortcut_makes_a_flag_and_thanks_the_reporter(harness: Harness) -> None:
    ts = "1700000000.001000"
    status, _ = await harness.interaction(report_payload("anyone know where to get some?", ts))
    assert status == 200
    await harness.settle()
    (flag,) = await harness.core.pending_flags(TEAM_ID)
    assert flag.ref.message_id == ts and flag.reporter is not None and flag.reporter.id == "U0REPORTER"
    (alert,) = harness.fake.calls_to("chat.postMessage")
    assert "reported by <@U0REPORTER>" in blocks_text(alert.params)
    (thanks,) = harness.fake.calls_to("chat.postEphemeral")
    assert thanks.params["user"] == "U0REPORTER" and "moderators have been told" in thanks.params["text"]
    # Reporting it again does not make a second flag or alert.
    await harness.interaction(report_payload("anyone know where to get some?", ts, reporter="U0SECOND"))
    await harness.settle()
    assert len(await harness.core.pending_flags(TEAM_ID)) == 1
    assert len(harness.fake.calls_to("chat.postMessage")) == 1
    assert "already with the moderators" in harness.fake.calls_to("chat.postEphemeral")[-1].params["text"]


# -- App Home --------------------------------------------------------------------------------------------


def home_event(user: str) -> dict[str, Any]:
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D0HOME",
        "tab": "home",
        "event_ts": "1700000300.000001",
    }


async def test_home_tab_shows_moderators_the_open_flags_with_buttons(harness: Harness) -> None:
    await harness.event(message_event(SOURCING, "1700000000.001100"))
    await harness.settle()
    (flag,) = await harness.core.pending_flags(TEAM_ID)
    await harness.event(home_event(MODERATOR))
    await harness.settle()
    (publish,) = harness.fake.calls_to("views.publish")
    assert publish.params["user_id"] == MODERATOR
    view = publish.params["view"]
    assert view["type"] == "home"
    assert button_id(flag.id, ModAction.DISMISS) in json.dumps(view)

    # Reviewing from the Home tab updates the alert and republishes the moderator's Home.
    payload = button_payload(
        button_id(flag.id, ModAction.DISMISS), user=MODERATOR, container={"type": "view", "view_id": "V1"}
    )
    await harness.interaction(payload)
    await harness.settle()
    assert (await harness.core.get_flag(flag.id)).status is FlagStatus.DISMISSED
    channel, ts = await recorded_alert(harness, flag.id)
    (update,) = harness.fake.calls_to("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (channel, ts)
    assert len(harness.fake.calls_to("views.publish")) == 2
    assert "No open flags" in json.dumps(harness.fake.calls_to("views.publish")[-1].params["view"])


async def test_home_tab_is_an_about_page_for_members_and_their_clicks_are_refused(harness: Harness) -> None:
    await harness.event(message_event(SOURCING, "1700000000.001200"))
    await harness.event(home_event(MEMBER))
    await harness.settle()
    (publish,) = harness.fake.calls_to("views.publish")
    view = json.dumps(publish.params["view"])
    assert '"actions"' not in view and "/microdosing" in view
    (flag,) = await harness.core.pending_flags(TEAM_ID)
    payload = button_payload(
        button_id(flag.id, ModAction.BAN), user=MEMBER, container={"type": "view", "view_id": "V1"}
    )
    await harness.interaction(payload)
    await harness.settle()
    refusal = harness.fake.calls_to("chat.postMessage")[-1]
    assert refusal.params["channel"] == MEMBER and "Only moderators" in refusal.params["text"]
    assert (await harness.core.get_flag(flag.id)).status is FlagStatus.OPEN
    assert harness.fake.calls_to("chat.update") == []
