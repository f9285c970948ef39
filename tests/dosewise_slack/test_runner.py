"""`run_slack` in both modes: Socket Mode against a fake websocket, HTTP mode on a loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from pathlib import Path

import aiohttp
import pytest

from dosewise.core import BotCore
from dosewise.errors import ConfigError
from dosewise.settings import Settings, SlackSettings
from dosewise_slack.app import api_base_url, make_client
from dosewise_slack.runner import run_slack
from tests.dosewise_slack.conftest import MEMBER, MOD_CHANNEL, SOURCING, message_event, settings_for, sign
from tests.dosewise_slack.fake_slack import APP_TOKEN, TEAM_ID, FakeSlack


def test_api_url_gets_the_trailing_slash_slack_sdk_expects() -> None:
    assert api_base_url("") == "https://slack.com/api/"
    assert api_base_url("http://127.0.0.1:8080/api") == "http://127.0.0.1:8080/api/"
    assert api_base_url("http://127.0.0.1:8080/api/") == "http://127.0.0.1:8080/api/"
    client = make_client(SlackSettings(bot_token="xoxb-1", api_url="http://127.0.0.1:1/api"))
    assert client.base_url == "http://127.0.0.1:1/api/"


@pytest.mark.parametrize(
    ("slack", "missing"),
    [
        (SlackSettings(mode="http", signing_secret="s"), "SLACK_BOT_TOKEN"),
        (SlackSettings(mode="http", bot_token="xoxb-1"), "SLACK_SIGNING_SECRET"),
        (SlackSettings(mode="socket", bot_token="xoxb-1"), "SLACK_APP_TOKEN"),
    ],
)
async def test_missing_secrets_are_named_not_shown(tmp_path: Path, slack: SlackSettings, missing: str) -> None:
    settings = Settings(database=tmp_path / "db.sqlite", slack=slack)
    core = await BotCore.open(settings)
    try:
        with pytest.raises(ConfigError) as info:
            await run_slack(core, settings)
        assert missing in info.value.user_message
        assert "xoxb-1" not in info.value.user_message
    finally:
        await core.close()


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_socket_mode_acks_the_envelope_and_acts_on_it(fake: FakeSlack, tmp_path: Path) -> None:
    settings = settings_for(fake, tmp_path, mode="socket", app_token=APP_TOKEN, signing_secret="")
    core = await BotCore.open(settings)
    task = asyncio.create_task(run_slack(core, settings))
    try:
        envelope = {
            "envelope_id": "57d6a792-4d35-4d0b-b6aa-3361493e1caf",
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": 0,
            "retry_reason": "",
            "payload": {
                "team_id": TEAM_ID,
                "api_app_id": "A0APP",
                "type": "event_callback",
                "event_id": "EvSOCKET1",
                "event_time": int(time.time()),
                "event": message_event(SOURCING, "1700000000.002000"),
            },
        }
        await fake.socket_outbox.put(envelope)
        await fake.wait_for(
            lambda: any(a.get("envelope_id") == envelope["envelope_id"] for a in fake.socket_acks), "the ack"
        )
        alert = await fake.wait_call("chat.postMessage")
        assert alert.params["channel"] == MOD_CHANNEL and f"<@{MEMBER}>" in json.dumps(alert.params["blocks"])
        (opened,) = fake.calls_to("apps.connections.open")
        assert opened.token == APP_TOKEN
    finally:
        await stop(task)
        await core.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_http_mode_serves_signed_requests_on_the_given_port(fake: FakeSlack, tmp_path: Path) -> None:
    settings = settings_for(fake, tmp_path)
    core = await BotCore.open(settings)
    port = free_port()
    task = asyncio.create_task(run_slack(core, settings, port=port))
    body = json.dumps({"token": "t", "challenge": "abc123", "type": "url_verification"})
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                ts = str(int(time.time()))
                headers = {
                    "Content-Type": "application/json",
                    "X-Slack-Request-Timestamp": ts,
                    "X-Slack-Signature": sign(body, ts),
                }
                try:
                    async with http.post(f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers) as r:
                        assert r.status == 200 and "abc123" in await r.text()
                        break
                except aiohttp.ClientConnectionError:
                    assert not task.done(), task
                    await asyncio.sleep(0.02)
            else:
                pytest.fail("the HTTP server never came up")
    finally:
        await stop(task)
        await core.close()


async def test_socket_mode_slash_command_is_answered_in_the_ack_through_bolt(fake: FakeSlack, tmp_path: Path) -> None:
    # Socket Mode has no HTTP front door: the command goes through Bolt's own listener and middleware.
    settings = settings_for(fake, tmp_path, mode="socket", app_token=APP_TOKEN, signing_secret="")
    core = await BotCore.open(settings)
    task = asyncio.create_task(run_slack(core, settings))
    try:
        envelope = {
            "envelope_id": "8b1b3c1e-0c3f-4a47-9d7e-5f2f4c1f0a11",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": {
                "token": "t",
                "team_id": TEAM_ID,
                "team_domain": "example",
                "channel_id": "C0GENERAL",
                "channel_name": "general",
                "user_id": MEMBER,
                "user_name": "member",
                "command": "/microdosing",
                "text": "risks",
                "api_app_id": "A0APP",
                "response_url": fake.response_url("socket-1"),
                "trigger_id": "1.2.3",
            },
        }
        await fake.socket_outbox.put(envelope)
        await fake.wait_for(
            lambda: any(a.get("envelope_id") == envelope["envelope_id"] for a in fake.socket_acks), "the ack"
        )
        (ack,) = [a for a in fake.socket_acks if a.get("envelope_id") == envelope["envelope_id"]]
        payload = ack["payload"]
        assert payload["response_type"] == "ephemeral"
        assert "Risks and side effects" in payload["text"]
        assert json.dumps(payload["blocks"]).count("https://doi.org/") >= 2
        assert fake.calls_to("chat.postMessage") == [] and fake.responses_to("socket-1") == []
    finally:
        await stop(task)
        await core.close()
