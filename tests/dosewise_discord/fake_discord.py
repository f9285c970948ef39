"""A small fake Discord (REST v10 + JSON websocket gateway) on 127.0.0.1 that drives the real discord.py.

It keeps just enough state to be believable: one guild with roles, text channels, a forum with a post
(thread) and members; the messages users and the bot send; interaction callbacks and webhook edits. Tests
push gateway events (messages, edits, slash commands, autocomplete, button clicks, menu picks, context
menus) and wait for the REST calls the bot makes. Every REST call is recorded; calls the fake does not
understand are answered 404 and listed in `unknown`, which a fixture asserts is empty.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord
import yarl
from aiohttp import WSMsgType, web

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1420070400000
MANAGE_MESSAGES = 1 << 13
# What a plain member can do: view, send, embed, attach, read history, add reactions, use app commands.
MEMBER_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 6) | (1 << 31)
EPHEMERAL = 1 << 6
# Message component types.
BUTTON, STRING_SELECT = 2, 3


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def shard_for(guild_id: int, shard_count: int) -> int:
    """Which shard Discord routes a guild to."""
    return (guild_id >> 22) % shard_count


@dataclass
class FakeUser:
    """A Discord user; `roles` are role ids in the fake guild."""

    id: int
    name: str
    bot: bool = False
    roles: list[int] = field(default_factory=list)

    def user_payload(self) -> JSON:
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.name.title(),
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
        }

    def member_payload(self, *, with_user: bool = True, permissions: int | None = None) -> JSON:
        data: JSON = {
            "roles": [str(r) for r in self.roles],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
            "avatar": None,
            "premium_since": None,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user_payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class Recorded:
    """One REST call the client made."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    status: int = 200
    response: Any = None
    # When the request reached the fake (perf_counter), for latency measurements.
    at: float = field(default_factory=time.perf_counter)


@dataclass
class Failure:
    """An injected error: the next `times` calls matching method + path regex get `status`."""

    method: str
    pattern: re.Pattern[str]
    status: int
    code: int
    message: str
    times: int


@dataclass
class _Waiter:
    method: str
    pattern: re.Pattern[str]
    predicate: Callable[[Recorded], bool] | None
    future: asyncio.Future[Recorded]


class _Gateway:
    """One websocket session: shard id, sequence numbers, the client's identify payload."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.seq = 0
        self.shard: tuple[int, int] = (0, 1)
        self.identify: JSON | None = None
        self.ready = asyncio.Event()

    async def send(self, op: int, data: Any, event: str | None = None) -> None:
        payload: JSON = {"op": op, "d": data, "s": None, "t": event}
        if op == 0:
            self.seq += 1
            payload["s"] = self.seq
        # Plain JSON text frames: discord.py only runs zlib on binary frames.
        await self.ws.send_str(json.dumps(payload))


class FakeDiscord:
    """The fake: start it, patch discord.py at it, push events, inspect recorded REST calls."""

    def __init__(self) -> None:
        self._ids = itertools.count(((1_700_000_000_000 - DISCORD_EPOCH_MS) << 22) + 1)
        self.application_id = self.snowflake()
        self.bot = FakeUser(self.snowflake(), "dosewise", bot=True)
        self.guild_id = self.snowflake()
        self.owner = FakeUser(self.snowflake(), "owner")
        self.mod_role_id = self.snowflake()
        self.helper_role_id = self.snowflake()
        self.roles: list[JSON] = [
            self._role(self.guild_id, "@everyone", MEMBER_PERMISSIONS, 0),
            self._role(self.mod_role_id, "Moderator", MEMBER_PERMISSIONS, 2),
            self._role(self.helper_role_id, "Helper", MEMBER_PERMISSIONS | MANAGE_MESSAGES, 1),
        ]
        self.general_id = self.snowflake()
        self.mod_channel_id = self.snowflake()
        self.forum_id = self.snowflake()
        self.post_id = self.snowflake()
        self.channels: list[JSON] = [
            self._text_channel(self.general_id, "general", 0),
            self._text_channel(self.mod_channel_id, "mod-log", 1),
            {
                "id": str(self.forum_id),
                "type": 15,
                "guild_id": str(self.guild_id),
                "name": "experiences",
                "position": 2,
                "parent_id": None,
                "topic": None,
                "nsfw": False,
                "permission_overwrites": [],
                "available_tags": [],
                "flags": 0,
            },
        ]
        self.alice = FakeUser(self.snowflake(), "alice")
        self.bob = FakeUser(self.snowflake(), "bob", roles=[self.mod_role_id])
        self.carol = FakeUser(self.snowflake(), "carol", roles=[self.helper_role_id])
        self.other_bot = FakeUser(self.snowflake(), "otherbot", bot=True)
        self.members = [self.owner, self.alice, self.bob, self.carol, self.other_bot, self.bot]
        self.threads: list[JSON] = [
            {
                "id": str(self.post_id),
                "guild_id": str(self.guild_id),
                "parent_id": str(self.forum_id),
                "owner_id": str(self.alice.id),
                "name": "first week notes",
                "type": 11,
                "message_count": 1,
                "member_count": 1,
                "rate_limit_per_user": 0,
                "flags": 0,
                "applied_tags": [],
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": "2024-01-01T00:00:00+00:00",
                    "locked": False,
                },
            }
        ]
        self.messages: dict[int, JSON] = {}
        self.commands: list[JSON] = []
        self.callbacks: dict[int, JSON] = {}
        # interaction token -> id of the message its `@original` refers to
        self._originals: dict[str, int] = {}
        # component interaction id -> id of the message holding the clicked component
        self._component_messages: dict[int, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.bans: dict[int, JSON] = {}
        self.timeouts: dict[int, str | None] = {}
        self.requests: list[Recorded] = []
        self.unknown: list[str] = []
        # Called with every recorded REST call (benchmarks timestamp alerts this way).
        self.listeners: list[Callable[[Recorded], None]] = []
        self.failures: list[Failure] = []
        self.sessions: list[_Gateway] = []
        self.identified = asyncio.Event()
        self._waiters: list[_Waiter] = []
        self.echo_bot_messages = True
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.gateway_url = ""

    # -- world ------------------------------------------------------------------------------------------

    def snowflake(self) -> int:
        return next(self._ids)

    @staticmethod
    def _role(role_id: int, name: str, permissions: int, position: int) -> JSON:
        return {
            "id": str(role_id),
            "name": name,
            "permissions": str(permissions),
            "position": position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }

    def _text_channel(self, channel_id: int, name: str, position: int) -> JSON:
        return {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(self.guild_id),
            "name": name,
            "position": position,
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "permission_overwrites": [],
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0,
        }

    def channel_payload(self, channel_id: int) -> JSON:
        for ch in [*self.channels, *self.threads]:
            if int(ch["id"]) == channel_id:
                return ch
        raise KeyError(channel_id)

    def member(self, user_id: int) -> FakeUser | None:
        return next((m for m in self.members if m.id == user_id), None)

    def permissions_of(self, user: FakeUser) -> int:
        """Guild-level permissions, as Discord computes them for an interaction's member."""
        if user.id == self.owner.id:
            return (1 << 53) - 1
        value = MEMBER_PERMISSIONS
        for role in self.roles:
            if int(role["id"]) in user.roles:
                value |= int(role["permissions"])
        return value

    def guild_payload(self) -> JSON:
        return {
            "id": str(self.guild_id),
            "name": "Mindful Microdosing",
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner.id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "vanity_url_code": None,
            "features": [],
            "roles": self.roles,
            "emojis": [],
            "stickers": [],
            "channels": self.channels,
            "threads": self.threads,
            "members": [m.member_payload() for m in self.members],
            # As many as we send, so discord.py sees the guild as complete and never asks for chunks.
            "member_count": len(self.members),
            "large": False,
            "unavailable": False,
            "joined_at": "2024-01-01T00:00:00+00:00",
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "max_members": 500000,
            "max_video_channel_users": 25,
            "premium_progress_bar_enabled": False,
            "safety_alerts_channel_id": None,
        }

    def message_payload(
        self,
        channel_id: int,
        author: FakeUser,
        content: str,
        *,
        message_id: int | None = None,
        embeds: list[JSON] | None = None,
        components: list[JSON] | None = None,
        flags: int = 0,
        edited_timestamp: str | None = None,
        message_type: int = 0,
    ) -> JSON:
        mid = message_id if message_id is not None else self.snowflake()
        return {
            "id": str(mid),
            "channel_id": str(channel_id),
            "guild_id": str(self.guild_id),
            "type": message_type,
            "content": content,
            "author": author.user_payload(),
            "member": author.member_payload(with_user=False),
            "timestamp": _now_iso(),
            "edited_timestamp": edited_timestamp,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": embeds or [],
            "components": components or [],
            "pinned": False,
            "flags": flags,
        }

    # -- server lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/api/v10"
        self.gateway_url = f"ws://127.0.0.1:{port}/gateway"

    async def stop(self) -> None:
        for session in self.sessions:
            await session.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @contextlib.contextmanager
    def patched(self) -> Iterator[None]:
        """Point discord.py's REST base and default gateway at the fake; restore them afterwards."""
        old_base = discord.http.Route.BASE
        old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.base_url
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            discord.http.Route.BASE = old_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    # -- gateway ----------------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        session = _Gateway(ws)
        self.sessions.append(session)
        await session.send(10, {"heartbeat_interval": 41250})
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            payload = json.loads(msg.data)
            op, data = payload.get("op"), payload.get("d")
            if op == 1:
                await session.send(11, None)
            elif op == 2:
                await self._identify(session, data)
            elif op == 6:
                await session.send(9, False)
            # op 3 (presence), 4 (voice), 8 (request members) are accepted and ignored.
        if session in self.sessions:
            self.sessions.remove(session)
        return ws

    async def _identify(self, session: _Gateway, data: JSON) -> None:
        session.identify = data
        shard = data.get("shard") or [0, 1]
        session.shard = (int(shard[0]), int(shard[1]))
        mine = shard_for(self.guild_id, session.shard[1]) == session.shard[0]
        ready: JSON = {
            "v": 10,
            "user": self.bot.user_payload(),
            "guilds": [{"id": str(self.guild_id), "unavailable": True}] if mine else [],
            "session_id": f"session-{len(self.sessions)}",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "shard": list(session.shard),
        }
        await session.send(0, ready, "READY")
        if mine:
            await session.send(0, self.guild_payload(), "GUILD_CREATE")
        session.ready.set()
        self.identified.set()

    def _session_for_guild(self) -> _Gateway:
        for session in self.sessions:
            if session.identify is not None and shard_for(self.guild_id, session.shard[1]) == session.shard[0]:
                return session
        raise RuntimeError("no identified gateway session holds the guild")

    async def dispatch(self, event: str, data: JSON) -> None:
        """Send one DISPATCH event to the session whose shard holds the guild."""
        await self._session_for_guild().send(0, data, event)

    async def wait_identified(self, sessions: int = 1, *, within: float = 10.0) -> None:
        """Wait until `sessions` gateway sessions have identified and received their guilds."""
        async with asyncio.timeout(within):
            while sum(1 for s in self.sessions if s.ready.is_set()) < sessions:
                self.identified.clear()
                await self.identified.wait()

    # -- things users do --------------------------------------------------------------------------------

    async def send_message(self, author: FakeUser, content: str, channel_id: int | None = None) -> JSON:
        """A member posts a message: stored, and MESSAGE_CREATE dispatched."""
        payload = self.message_payload(channel_id or self.general_id, author, content)
        self.messages[int(payload["id"])] = payload
        await self.dispatch("MESSAGE_CREATE", payload)
        return payload

    async def edit_message(self, message_id: int, content: str) -> JSON:
        """A member edits a message: MESSAGE_UPDATE carries the full message with `edited_timestamp`."""
        payload = dict(self.messages[message_id], content=content, edited_timestamp=_now_iso())
        self.messages[message_id] = payload
        await self.dispatch("MESSAGE_UPDATE", payload)
        return payload

    def _interaction(self, kind: int, user: FakeUser, channel_id: int, data: JSON | None) -> JSON:
        iid = self.snowflake()
        channel = dict(self.channel_payload(channel_id))
        payload: JSON = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": kind,
            "token": f"itoken-{iid}",
            "version": 1,
            "guild_id": str(self.guild_id),
            "guild": {"id": str(self.guild_id), "locale": "en-US", "features": []},
            "channel_id": str(channel_id),
            "channel": channel,
            "member": user.member_payload(permissions=self.permissions_of(user)),
            "app_permissions": str(self.permissions_of(self.bot) | MANAGE_MESSAGES | (1 << 40) | (1 << 2)),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(self.guild_id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if data is not None:
            payload["data"] = data
        return payload

    def _command_id(self, name: str, kind: int) -> str:
        for cmd in self.commands:
            if cmd["name"] == name and cmd.get("type", 1) == kind:
                return str(cmd["id"])
        return str(self.snowflake())

    async def slash(
        self, user: FakeUser, name: str, options: list[JSON] | None = None, channel_id: int | None = None
    ) -> JSON:
        """A member runs a slash command (INTERACTION_CREATE type 2); returns the interaction payload."""
        data: JSON = {"id": self._command_id(name, 1), "name": name, "type": 1}
        if options:
            data["options"] = options
        payload = self._interaction(2, user, channel_id or self.general_id, data)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def autocomplete(self, user: FakeUser, name: str, options: list[JSON], channel_id: int | None = None) -> JSON:
        """A member types into an autocomplete option (INTERACTION_CREATE type 4)."""
        data: JSON = {"id": self._command_id(name, 1), "name": name, "type": 1, "options": options}
        payload = self._interaction(4, user, channel_id or self.general_id, data)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def context_menu(self, user: FakeUser, name: str, message_id: int) -> JSON:
        """A member uses a message context menu command on a message."""
        target = self.messages[message_id]
        data: JSON = {
            "id": self._command_id(name, 3),
            "name": name,
            "type": 3,
            "target_id": str(message_id),
            "resolved": {"messages": {str(message_id): target}},
        }
        payload = self._interaction(2, user, int(target["channel_id"]), data)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def click(self, user: FakeUser, message_id: int, custom_id: str) -> JSON:
        """A member clicks a button on a message (INTERACTION_CREATE type 3 with the message attached)."""
        self._component(message_id, custom_id, BUTTON)
        return await self._use_component(user, message_id, {"custom_id": custom_id, "component_type": BUTTON})

    async def select(self, user: FakeUser, message_id: int, custom_id: str, values: list[str]) -> JSON:
        """A member picks from a string select menu on a message; Discord only sends values the menu offers."""
        menu = self._component(message_id, custom_id, STRING_SELECT)
        offered = {option["value"] for option in menu.get("options", [])}
        count_ok = int(menu.get("min_values", 1)) <= len(values) <= int(menu.get("max_values", 1))
        if not count_ok or not set(values) <= offered:
            raise AssertionError(f"Discord would refuse the pick {values} from a menu offering {sorted(offered)}")
        data: JSON = {"custom_id": custom_id, "component_type": STRING_SELECT, "values": values}
        return await self._use_component(user, message_id, data)

    def _component(self, message_id: int, custom_id: str, kind: int) -> JSON:
        """The component a member uses; Discord has no way to send an interaction for one a message lacks."""
        for row in self.messages[message_id].get("components", []):
            for component in row.get("components", []):
                if component.get("type") == kind and component.get("custom_id") == custom_id:
                    return dict(component)
        raise AssertionError(f"message {message_id} has no component of type {kind} with id {custom_id!r}")

    async def _use_component(self, user: FakeUser, message_id: int, data: JSON) -> JSON:
        message = self.messages[message_id]
        payload = self._interaction(3, user, int(message["channel_id"]), data)
        payload["message"] = message
        self._component_messages[int(payload["id"])] = message_id
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    def fail(self, method: str, path: str, status: int = 403, *, times: int = 1) -> None:
        """Make the next `times` calls to `method path-regex` fail with a Discord-style error body."""
        code, message = {403: (50013, "Missing Permissions"), 404: (10008, "Unknown Message")}.get(status, (0, "Error"))
        self.failures.append(Failure(method, re.compile(path), status, code, message, times))

    # -- waiting --------------------------------------------------------------------------------------

    async def wait_for_request(
        self,
        method: str,
        path: str,
        predicate: Callable[[Recorded], bool] | None = None,
        *,
        within: float = 10.0,
        since: int = 0,
    ) -> Recorded:
        """Wait for a REST call matching `method` and a path regex (already-seen calls from `since` count)."""
        pattern = re.compile(path)
        for rec in self.requests[since:]:
            if self._matches(rec, method, pattern, predicate):
                return rec
        future: asyncio.Future[Recorded] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(method, pattern, predicate, future)
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, within)
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    @staticmethod
    def _matches(
        rec: Recorded, method: str, pattern: re.Pattern[str], predicate: Callable[[Recorded], bool] | None
    ) -> bool:
        return (
            rec.method == method and pattern.fullmatch(rec.path) is not None and (predicate is None or predicate(rec))
        )

    def calls(self, method: str, path: str) -> list[Recorded]:
        pattern = re.compile(path)
        return [r for r in self.requests if self._matches(r, method, pattern, None)]

    def _record(self, rec: Recorded) -> None:
        self.requests.append(rec)
        for listener in list(self.listeners):
            listener(rec)
        for waiter in list(self._waiters):
            if not waiter.future.done() and self._matches(rec, waiter.method, waiter.pattern, waiter.predicate):
                waiter.future.set_result(rec)

    # -- REST -------------------------------------------------------------------------------------------

    @staticmethod
    def _json(data: Any, status: int = 200) -> web.Response:
        # Exactly `application/json`: discord.py compares the header verbatim, and aiohttp's
        # json_response would append "; charset=utf-8".
        return web.Response(status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"})

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        raw = await request.read()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
        rec = Recorded(request.method, path, dict(request.query), body, dict(request.headers))
        for failure in self.failures:
            if failure.times > 0 and failure.method == request.method and failure.pattern.fullmatch(path):
                failure.times -= 1
                rec.status = failure.status
                self._record(rec)
                return self._json({"message": failure.message, "code": failure.code}, failure.status)
        try:
            response = await self._route(request.method, path, body, rec)
        except KeyError:
            response = self._json({"message": "Unknown Message", "code": 10008}, 404)
        if response is None:
            self.unknown.append(f"{request.method} {path}")
            response = self._json({"message": "404: Not Found (fake does not know this route)", "code": 0}, 404)
        rec.status = response.status
        if response.body and response.content_type == "application/json":
            assert isinstance(response.body, bytes)
            rec.response = json.loads(response.body)
        self._record(rec)
        return response

    async def _route(self, method: str, path: str, body: Any, rec: Recorded) -> web.Response | None:
        parts = path.strip("/").split("/")
        app = str(self.application_id)
        match method, parts:
            case "GET", ["users", "@me"]:
                return self._json(self.bot.user_payload())
            case "GET", ["oauth2", "applications", "@me"]:
                return self._json(self._application())
            case "GET", ["gateway", "bot"]:
                return self._json(
                    {
                        "url": self.gateway_url,
                        "shards": 1,
                        "session_start_limit": {
                            "total": 1000,
                            "remaining": 999,
                            "reset_after": 0,
                            "max_concurrency": 1,
                        },
                    }
                )
            case "PUT", ["applications", app_id, "commands"] if app_id == app:
                self.commands = [
                    # Discord answers with ids and a description ("" for context menus) on every command.
                    {"description": "", **cmd, "id": str(self.snowflake()), "application_id": app, "version": "1"}
                    for cmd in body
                ]
                return self._json(self.commands)
            case "GET", ["applications", app_id, "commands"] if app_id == app:
                return self._json(self.commands)
            case "POST", ["interactions", iid, token, "callback"]:
                return self._json(await self._callback(int(iid), token, body))
            case "PATCH", ["webhooks", app_id, token, "messages", "@original"] if app_id == app:
                return self._json(await self._edit_original(token, body))
            case "POST", ["webhooks", app_id, token] if app_id == app:
                return self._json(self._followup(token, body))
            case "POST", ["channels", cid, "messages"]:
                return self._json(await self._bot_message(int(cid), body))
            case "PATCH", ["channels", cid, "messages", mid]:
                return self._json(await self._bot_edit(int(cid), int(mid), body))
            case "GET", ["channels", cid, "messages", mid]:
                return self._json(self.messages[int(mid)])
            case "DELETE", ["channels", cid, "messages", mid]:
                self.messages.pop(int(mid))
                await self.dispatch("MESSAGE_DELETE", {"id": mid, "channel_id": cid, "guild_id": str(self.guild_id)})
                return web.Response(status=204)
            case "GET", ["channels", cid]:
                return self._json(self.channel_payload(int(cid)))
            case "GET", ["guilds", gid, "members", uid] if gid == str(self.guild_id):
                member = self.member(int(uid))
                if member is None:
                    return self._json({"message": "Unknown Member", "code": 10007}, 404)
                payload = member.member_payload()
                payload["communication_disabled_until"] = self.timeouts.get(member.id)
                return self._json(payload)
            case "PATCH", ["guilds", gid, "members", uid] if gid == str(self.guild_id):
                member = self.member(int(uid))
                if member is None:
                    return self._json({"message": "Unknown Member", "code": 10007}, 404)
                if "communication_disabled_until" in body:
                    self.timeouts[member.id] = body["communication_disabled_until"]
                payload = member.member_payload()
                payload["communication_disabled_until"] = self.timeouts.get(member.id)
                return self._json(payload)
            case "PUT", ["guilds", gid, "bans", uid] if gid == str(self.guild_id):
                self.bans[int(uid)] = body or {}
                return web.Response(status=204)
        return None

    def _application(self) -> JSON:
        return {
            "id": str(self.application_id),
            "name": "Dosewise",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.owner.user_payload(),
            "verify_key": "0" * 64,
            "flags": 0,
            "team": None,
            "summary": "",
            "rpc_origins": [],
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "tags": [],
        }

    async def _callback(self, iid: int, token: str, body: JSON) -> JSON:
        self.callbacks[iid] = body
        kind = int(body["type"])
        data = body.get("data") or {}
        result: JSON = {
            "interaction": {
                "id": str(iid),
                "type": 2,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(int(data.get("flags", 0)) & EPHEMERAL),
            },
            "resource": {"type": kind},
        }
        if kind in (4, 5):
            channel_id = self.general_id
            message = self.message_payload(
                channel_id,
                self.bot,
                data.get("content") or "",
                embeds=data.get("embeds"),
                components=data.get("components"),
                flags=int(data.get("flags", 0)),
                message_type=20,
            )
            self.messages[int(message["id"])] = message
            self._originals[token] = int(message["id"])
            result["interaction"]["response_message_id"] = message["id"]
            result["resource"]["message"] = message
        elif kind in (6, 7):
            # Component interactions: `@original` is the message holding the component.
            message_id = self._component_messages.get(iid)
            if message_id is not None:
                self._originals[token] = message_id
                if kind == 7:
                    message = self._apply_edit(message_id, data)
                    result["interaction"]["response_message_id"] = message["id"]
                    result["resource"]["message"] = message
        return result

    def _apply_edit(self, message_id: int, data: JSON) -> JSON:
        message = dict(self.messages[message_id])
        for key in ("content", "embeds", "components"):
            if key in data and data[key] is not None:
                message[key] = data[key]
        message["edited_timestamp"] = _now_iso()
        self.messages[message_id] = message
        return message

    async def _edit_original(self, token: str, body: JSON) -> JSON:
        message_id = self._originals[token]
        return self._apply_edit(message_id, body)

    def _followup(self, token: str, body: JSON) -> JSON:
        message = self.message_payload(
            self.general_id,
            self.bot,
            body.get("content") or "",
            embeds=body.get("embeds"),
            components=body.get("components"),
            flags=int(body.get("flags", 0)),
        )
        self.messages[int(message["id"])] = message
        return message

    async def _bot_message(self, channel_id: int, body: JSON) -> JSON:
        message = self.message_payload(
            channel_id,
            self.bot,
            body.get("content") or "",
            embeds=body.get("embeds"),
            components=body.get("components"),
        )
        self.messages[int(message["id"])] = message
        if self.echo_bot_messages:
            # Real Discord echoes the bot's own messages back over the gateway; the bot must skip them.
            self._echo("MESSAGE_CREATE", message)
        return message

    async def _bot_edit(self, channel_id: int, message_id: int, body: JSON) -> JSON:
        message = self._apply_edit(message_id, body)
        if self.echo_bot_messages:
            self._echo("MESSAGE_UPDATE", message)
        return message

    def _echo(self, event: str, message: JSON) -> None:
        async def send() -> None:
            with contextlib.suppress(RuntimeError, ConnectionError):
                await self.dispatch(event, message)

        task = asyncio.get_running_loop().create_task(send())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- inspection -------------------------------------------------------------------------------------

    def response_message(self, callback: Recorded) -> JSON:
        """The message an interaction callback (or its later `@original` edits) refers to."""
        token = callback.path.split("/")[3]
        return self.messages[self._originals[token]]

    def bot_messages_in(self, channel_id: int) -> list[JSON]:
        return [
            m
            for m in self.messages.values()
            if int(m["channel_id"]) == channel_id and int(m["author"]["id"]) == self.bot.id
        ]


@contextlib.asynccontextmanager
async def running_fake() -> AsyncIterator[FakeDiscord]:
    """Start a fake, patch discord.py at it, and tear both down."""
    fake = FakeDiscord()
    await fake.start()
    try:
        with fake.patched():
            yield fake
    finally:
        await fake.stop()
