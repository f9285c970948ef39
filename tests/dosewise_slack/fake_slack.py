"""A small fake of Slack on 127.0.0.1: the Web API, response_urls, and a Socket Mode websocket.

It records every call and answers like Slack does for the methods the adapter uses. A method it does
not know is recorded in `unknown` (tests fail on it) and answered with an error, never guessed at.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-test-bot-token"
ADMIN_TOKEN = "xoxp-test-admin-token"
APP_TOKEN = "xapp-test-app-token"
TEAM_ID = "T0TEAM"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
# Only turns a hang into a readable failure; no test asserts on timing.
WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class Call:
    """One Web API call as the fake received it."""

    method: str
    params: dict[str, Any]
    token: str


@dataclass
class FakeSlack:
    """The fake server; `await start()` it, point `SLACK_API_URL` at `api_url`."""

    usergroups: dict[str, list[str]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    responses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    socket_outbox: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    port: int = 0
    # Called with the key of every response_url post (the benchmark awaits answers with it).
    on_respond: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        self._ts = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_get("/ws", self._websocket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        """The Web API base, deliberately without the trailing slash slack_sdk wants."""
        return f"http://127.0.0.1:{self.port}/api"

    def response_url(self, key: str) -> str:
        """A response_url that lands in `responses` under `key`."""
        return f"http://127.0.0.1:{self.port}/respond/{key}"

    # -- queries -----------------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """Every call of one Web API method, in order."""
        return [c for c in self.calls if c.method == method]

    def responses_to(self, key: str) -> list[dict[str, Any]]:
        """Every message posted to one response_url."""
        return [body for k, body in self.responses if k == key]

    async def wait_for(self, condition: Callable[[], bool], what: str = "") -> None:
        """Wait until `condition()` holds (a generous deadline only turns a hang into a failure)."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(condition), WAIT_SECONDS)
            except TimeoutError:
                raise AssertionError(f"fake Slack never saw {what or condition}; calls: {self.summary()}") from None

    async def wait_call(self, method: str, count: int = 1) -> Call:
        """Wait for the `count`-th call to `method` and return it."""
        await self.wait_for(lambda: len(self.calls_to(method)) >= count, f"{count}× {method}")
        return self.calls_to(method)[count - 1]

    def summary(self) -> list[str]:
        """Method names called so far (for failure messages)."""
        return [c.method for c in self.calls] + [f"respond:{k}" for k, _ in self.responses]

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- the Web API -------------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        raw = await request.text()
        if request.content_type == "application/json":
            params.update(json.loads(raw) if raw else {})
        elif raw:
            params.update(dict(parse_qsl(raw, keep_blank_values=True)))
        for key in ("blocks", "view", "attachments"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else str(params.pop("token", ""))
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            self.unknown.append(method)
            self.calls.append(Call(method, params, token))
            await self._notify()
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)
        if token not in (BOT_TOKEN, ADMIN_TOKEN, APP_TOKEN):
            body: dict[str, Any] = {"ok": False, "error": "invalid_auth"}
        else:
            body = handler(params, token)
        self.calls.append(Call(method, params, token))
        await self._notify()
        return web.json_response(body)

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _m_auth_test(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://dosewise-test.slack.com/",
            "team": "Dosewise Test",
            "team_id": TEAM_ID,
            "user": "dosewise",
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
        }

    def _needs(self, params: dict[str, Any], *keys: str) -> dict[str, Any] | None:
        missing = [k for k in keys if not params.get(k)]
        return {"ok": False, "error": "invalid_arguments", "missing": missing} if missing else None

    def _m_chat_postMessage(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        if (error := self._needs(params, "channel")) or (error := self._needs(params, "text")):
            return error
        ts = self._next_ts()
        return {"ok": True, "channel": params["channel"], "ts": ts, "message": {"text": params["text"], "ts": ts}}

    def _m_chat_postEphemeral(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        return self._needs(params, "channel", "user", "text") or {"ok": True, "message_ts": self._next_ts()}

    def _m_chat_update(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        return self._needs(params, "channel", "ts") or {"ok": True, "channel": params["channel"], "ts": params["ts"]}

    def _m_chat_delete(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        if token != ADMIN_TOKEN:
            # What Slack answers when a bot token tries to delete a member's message.
            return {"ok": False, "error": "cant_delete_message"}
        return self._needs(params, "channel", "ts") or {"ok": True, "channel": params["channel"], "ts": params["ts"]}

    def _m_chat_getPermalink(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        if error := self._needs(params, "channel", "message_ts"):
            return error
        link = f"https://dosewise-test.slack.com/archives/{params['channel']}/p{params['message_ts'].replace('.', '')}"
        return {"ok": True, "channel": params["channel"], "permalink": link}

    def _m_views_publish(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        if error := self._needs(params, "user_id", "view"):
            return error
        view = params["view"]
        if view.get("type") != "home" or len(view.get("blocks", [])) > 100:
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": {"id": "V1", **view}}

    def _m_usergroups_users_list(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        group = params.get("usergroup", "")
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": self.usergroups[group]}

    def _m_apps_connections_open(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        if token != APP_TOKEN:
            return {"ok": False, "error": "not_allowed_token_type"}
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/ws"}

    # -- response_url ------------------------------------------------------------------------------

    async def _respond(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        self.responses.append((key, await request.json()))
        if self.on_respond is not None:
            self.on_respond(key)
        await self._notify()
        return web.Response(text="ok")

    # -- Socket Mode -------------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0APP"}})

        async def pump() -> None:
            while True:
                envelope = await self.socket_outbox.get()
                await ws.send_json(envelope)

        sender = asyncio.create_task(pump())
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self.socket_acks.append(json.loads(message.data))
                    await self._notify()
        finally:
            sender.cancel()
        return ws
