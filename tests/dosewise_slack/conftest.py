"""The real Bolt app served on 127.0.0.1, driven by signed requests, talking to a fake Slack."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web

from dosewise.core import BotCore
from dosewise.settings import Policy, Settings, SlackSettings
from dosewise_slack.app import SlackBot, build_bot
from tests.dosewise_slack.fake_slack import BOT_TOKEN, TEAM_ID, FakeSlack

SIGNING_SECRET = "test-signing-secret-0123456789"
MOD_CHANNEL = "C0MODS"
MODERATOR = "U0MOD"
GROUP = "S0MODS"
GROUP_MODERATOR = "U0GROUPMOD"
MEMBER = "U0MEMBER"
SOURCING = "got shrooms and tabs for sale, dm me on telegram @fungiplug, ships worldwide"
ORDINARY = "day 3 of the protocol, slept badly but mood is ok"


def sign(body: str, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    """Slack's request signature: v0= HMAC-SHA256 of `v0:<timestamp>:<body>`."""
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


def settings_for(
    fake: FakeSlack, tmp_path: Path, servers: Mapping[str, Policy] | None = None, **slack: Any
) -> Settings:
    """Settings for a test workspace: a mod channel, one moderator by id and one user group."""
    base = SlackSettings(
        mode="http",
        host="127.0.0.1",
        port=0,
        mod_channel=MOD_CHANNEL,
        moderators=(MODERATOR, GROUP),
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        api_url=fake.api_url,
    )
    return Settings(database=tmp_path / "dosewise.db", slack=replace(base, **slack), servers=dict(servers or {}))


@dataclass
class Harness:
    """A running adapter plus helpers that speak Slack's HTTP dialect to it."""

    fake: FakeSlack
    core: BotCore
    bot: SlackBot
    url: str
    http: aiohttp.ClientSession
    _events: int = field(default=0)

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: str | None = None,
        secret: str = SIGNING_SECRET,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        """POST a body signed like Slack signs it (or not, with another secret or timestamp)."""
        ts = timestamp if timestamp is not None else str(int(time.time()))
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(body, ts, secret),
            **(headers or {}),
        }
        async with self.http.post(self.url, data=body.encode(), headers=all_headers) as response:
            return response.status, await response.text()

    async def command(self, text: str, *, user: str = MEMBER, key: str = "cmd") -> tuple[int, str]:
        """A `/microdosing` slash command whose response_url lands in the fake under `key`."""
        form = {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "dosewise-test",
            "channel_id": "C0GENERAL",
            "channel_name": "general",
            "user_id": user,
            "user_name": "someone",
            "command": "/microdosing",
            "text": text,
            "api_app_id": "A0APP",
            "response_url": self.fake.response_url(key),
            "trigger_id": "1.2.3",
        }
        return await self.post(urlencode(form), "application/x-www-form-urlencoded")

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None
    ) -> tuple[int, str]:
        """An Events API delivery (`X-Slack-Retry-Num` when `retry` is given)."""
        if event_id is None:
            self._events += 1
            event_id = f"Ev{self._events:04d}"
        body = {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": "A0APP",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": "U0BOT", "is_bot": True}],
            "event": event,
        }
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return await self.post(json.dumps(body), "application/json", headers=headers)

    async def interaction(self, payload: dict[str, Any]) -> tuple[int, str]:
        """An interactivity request: form-encoded `payload=<json>`."""
        return await self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    async def settle(self) -> None:
        """Wait until the adapter's background work for the requests so far is done."""
        await self.bot.idle()


def message_event(
    text: str, ts: str, *, user: str = MEMBER, channel: str = "C0GENERAL", **extra: Any
) -> dict[str, Any]:
    """A new-message event as Slack sends it for a public channel."""
    return {
        "type": "message",
        "channel": channel,
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "team": TEAM_ID,
        **extra,
    }


def edit_event(old: str, new: str, ts: str, *, user: str = MEMBER, channel: str = "C0GENERAL") -> dict[str, Any]:
    """A `message_changed` event: the member edited message `ts`."""
    edit_ts = f"{float(ts) + 30:.6f}"
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": channel,
        "channel_type": "channel",
        "ts": edit_ts,
        "event_ts": edit_ts,
        "message": {
            "type": "message",
            "user": user,
            "text": new,
            "ts": ts,
            "edited": {"user": user, "ts": edit_ts},
        },
        "previous_message": {"type": "message", "user": user, "text": old, "ts": ts},
    }


def button_payload(action_id: str, *, user: str, container: dict[str, Any], response_url: str = "") -> dict[str, Any]:
    """A `block_actions` payload for one button press."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "dosewise-test"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0APP",
        "token": "legacy-verification-token",
        "container": container,
        "trigger_id": "1.2.3",
        "actions": [
            {
                "action_id": action_id,
                "block_id": "dosewise:review:1",
                "value": action_id,
                "type": "button",
                "action_ts": "1700000100.000001",
                "text": {"type": "plain_text", "text": "x"},
            }
        ],
    }
    if container.get("type") == "message":
        payload["channel"] = {"id": container["channel_id"], "name": "mods"}
        payload["message"] = {"type": "message", "ts": container["message_ts"], "text": "alert"}
        payload["response_url"] = response_url or "http://127.0.0.1:9/never-used"
    else:
        payload["view"] = {"id": container.get("view_id", "V1"), "type": "home"}
    return payload


HarnessFactory = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """The fake Slack; a test fails if the adapter called a method the fake does not understand."""
    server = await FakeSlack(usergroups={GROUP: [GROUP_MODERATOR, "U0OTHER"]}).start()
    yield server
    await server.close()
    assert server.unknown == [], f"the adapter called Web API methods the fake does not know: {server.unknown}"


@pytest.fixture
async def make_harness(fake: FakeSlack, tmp_path: Path) -> AsyncIterator[HarnessFactory]:
    """Start the adapter (with optional SlackSettings overrides) behind a loopback HTTP server."""
    cleanups: list[Callable[[], Awaitable[None]]] = []

    async def start(servers: Mapping[str, Policy] | None = None, **slack: Any) -> Harness:
        settings = settings_for(fake, tmp_path, servers, **slack)
        core = await BotCore.open(settings)
        bot = build_bot(core, settings)
        runner = web.AppRunner(bot.web_app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        http = aiohttp.ClientSession()

        async def stop() -> None:
            await http.close()
            await runner.cleanup()
            await bot.aclose()
            await core.close()

        cleanups.append(stop)
        return Harness(fake, core, bot, f"http://127.0.0.1:{port}{settings.slack.path}", http)

    yield start
    for stop in reversed(cleanups):
        await stop()


@pytest.fixture
async def harness(make_harness: HarnessFactory) -> Harness:
    """The adapter with default settings (no admin token)."""
    return await make_harness()


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test on any ERROR log or logged traceback (Bolt and aiohttp only log listener failures)."""
    caplog.set_level(logging.INFO)
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [f"{r.name}: {r.getMessage()}" for r in bad]
    secrets = (BOT_TOKEN, SIGNING_SECRET, "xoxp-test-admin-token", "xapp-test-app-token")
    leaked = [r.getMessage() for r in caplog.records if any(s in r.getMessage() for s in secrets)]
    assert not leaked, leaked
