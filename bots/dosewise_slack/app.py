"""The Slack adapter: a Bolt `AsyncApp` wired to the core, plus its signed HTTP front door.

Every listener acknowledges at once (Slack allows 3 seconds). A `/microdosing` answer is computed in
microseconds and goes back in the acknowledgement; everything that calls the Web API (screening,
alerts, reviews, reports, App Home) runs in a background task, so a slow Web API never makes Slack
retry. The app runs with `process_before_response=True`: Bolt's default mode polls for the ack every
10 ms, which alone would blow the 10 ms latency budget.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from dosewise.core import BotCore
from dosewise.errors import DosewiseError, FlagAlreadyReviewed, NotAModerator
from dosewise.models import Flag, IncomingMessage, MessageRef, Platform, Reply, ScreenOutcome
from dosewise.settings import Settings, SlackSettings
from dosewise_slack.render import (
    HOME_FLAGS,
    DeleteResult,
    command_response,
    render_alert,
    render_home,
    render_notice,
    render_reviewed,
)
from dosewise_slack.translate import (
    BUTTON_PREFIX,
    REPORT_CALLBACK_ID,
    PayloadError,
    interaction_place,
    parse_form,
    request_kind,
    share_requested,
    to_command_request,
    to_incoming_message,
    to_report_request,
    to_review_requests,
    user_from,
)

log = logging.getLogger(__name__)

SLASH_COMMAND = "/microdosing"
DEFAULT_API_URL = "https://slack.com/api/"
# User-group membership changes rarely; a minute of staleness bounds the API calls per message.
GROUP_CACHE_SECONDS = 60.0
# A failed lookup is retried soon, and until then the user is treated as a non-moderator (fail closed).
GROUP_FAILURE_SECONDS = 5.0
SEEN_EVENTS = 10_000
ANSWER_CACHE = 512
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_RESPONSE_HEADERS = {"Content-Type": "application/json"}


def api_base_url(api_url: str) -> str:
    """The Web API base URL with the trailing slash slack_sdk expects (`.../api/`)."""
    return (api_url.rstrip("/") + "/") if api_url else DEFAULT_API_URL


def make_client(slack: SlackSettings) -> AsyncWebClient:
    """The bot's Web API client; `SLACK_API_URL` (settings.api_url) redirects every call."""
    return AsyncWebClient(token=slack.bot_token or None, base_url=api_base_url(slack.api_url))


def api_error(exc: SlackApiError) -> str:
    """Slack's error code (`channel_not_found`…), or the HTTP status when the body was not JSON."""
    data = exc.response.data
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"HTTP {exc.response.status_code}"


def is_group_id(entry: str) -> bool:
    """Slack user-group ids start with S; user ids with U or W."""
    return entry.startswith("S")


# chat.update errors after which an alert cannot (or need not) be cleared of purged text.
ALERT_GONE_ERRORS = frozenset({"message_not_found", "channel_not_found", "cant_update_message", "is_archived"})


class GroupDirectory:
    """Who is in which Slack user group (`usergroups.users.list`), cached briefly; decides moderators."""

    def __init__(
        self, client: AsyncWebClient, *, ttl: float = GROUP_CACHE_SECONDS, clock: Any = time.monotonic
    ) -> None:
        self.client = client
        self.ttl = ttl
        self.clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def members(self, group_id: str) -> frozenset[str]:
        """Members of one user group (empty if it cannot be read)."""
        cached = self._members.get(group_id)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        lock = self._locks.setdefault(group_id, asyncio.Lock())
        async with lock:
            cached = self._members.get(group_id)
            if cached is not None and cached[0] > self.clock():
                return cached[1]
            try:
                response = await self.client.usergroups_users_list(usergroup=group_id)
                users = response.get("users") or []
                members = frozenset(u for u in users if isinstance(u, str))
                self._members[group_id] = (self.clock() + self.ttl, members)
            except SlackApiError as exc:
                log.warning("cannot read user group %s: %s", group_id, api_error(exc))
                members = frozenset()
                self._members[group_id] = (self.clock() + GROUP_FAILURE_SECONDS, members)
            return members

    async def groups_of(self, user_id: str, groups: Iterable[str]) -> tuple[str, ...]:
        """Which of `groups` (user-group ids) the user belongs to."""
        return tuple([g for g in groups if is_group_id(g) and user_id in await self.members(g)])

    async def is_listed(self, user_id: str, entries: Sequence[str]) -> bool:
        """Whether a user is among `entries`: listed by user id, or a member of a listed user group."""
        if user_id in entries:
            return True
        return bool(await self.groups_of(user_id, entries))


class SlackBot:
    """The adapter: holds the core, the Bolt app, the Web API client and the background work."""

    def __init__(self, core: BotCore, settings: Settings, *, client: AsyncWebClient | None = None) -> None:
        self.core = core
        self.settings = settings
        self.slack = settings.slack
        self.client = client if client is not None else make_client(self.slack)
        self.directory = GroupDirectory(self.client)
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._answers: dict[tuple[int, str], tuple[Reply, bytes]] = {}
        self._response_type = "in_channel" if self.slack.answer_in_channel else "ephemeral"
        # Socket Mode has no signing secret (the websocket is authenticated by the app token).
        self._verifier = SignatureVerifier(self.slack.signing_secret) if self.slack.signing_secret else None
        self.app = AsyncApp(
            name="dosewise",
            client=self.client,
            signing_secret=self.slack.signing_secret,
            # `handle_http` verifies every request before Bolt sees it; Socket Mode has no signatures.
            request_verification_enabled=False,
            process_before_response=True,
            logger=logging.getLogger("dosewise_slack.bolt"),
        )
        self.app.command(SLASH_COMMAND)(self._on_command)
        self.app.event("message")(self._on_message)
        self.app.event("app_home_opened")(self._on_home_opened)
        self.app.action(re.compile("^" + re.escape(BUTTON_PREFIX)))(self._on_review_button)
        self.app.shortcut(REPORT_CALLBACK_ID)(self._on_report)

    # -- lifecycle ---------------------------------------------------------------------------------

    def _ensure_session(self) -> aiohttp.ClientSession:
        # One pooled session for every Web API and response_url call (slack_sdk opens one per call
        # otherwise); created lazily because it must belong to the running event loop.
        if self.client.session is not None and not self.client.session.closed:
            return self.client.session
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        self.client.session = self._session
        return self._session

    def _spawn(self, work: Coroutine[Any, Any, None], what: str) -> None:
        task = asyncio.create_task(self._guard(work, what))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guard(self, work: Awaitable[None], what: str) -> None:
        try:
            await work
        except PayloadError as exc:
            log.warning("ignored a malformed Slack %s payload: %s", what, exc)
        except SlackApiError as exc:
            log.warning("Slack API call failed while handling %s: %s", what, api_error(exc))
        except DosewiseError as exc:
            log.warning("%s: %s", what, exc.user_message)
        except Exception:
            log.exception("handling a Slack %s failed", what)

    async def idle(self) -> None:
        """Wait until every background task started so far (and any they start) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self, within: float = 5.0) -> None:
        """Let background work finish (for `within` seconds at most), then close the HTTP session."""
        try:
            await asyncio.wait_for(self.idle(), within)
        except TimeoutError:
            log.warning("stopped with %d Slack tasks unfinished", len(self._tasks))
            for task in list(self._tasks):
                task.cancel()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- the HTTP front door -----------------------------------------------------------------------

    def web_app(self, path: str | None = None) -> web.Application:
        """An aiohttp application serving Slack's requests (events, commands, interactivity) at `path`."""
        application = web.Application()
        application.router.add_post(path or self.slack.path, self.handle_http)
        return application

    async def handle_http(self, request: web.Request) -> web.Response:
        """Verify the signature (401), parse and check the payload (400), then answer or dispatch to Bolt.

        The signature (HMAC-SHA256 compared in constant time, timestamps over five minutes old refused)
        is checked here, once, before anything is parsed; Bolt's own check is off because nothing
        reaches Bolt except through this door. `/microdosing` is answered right here from the core's
        cached replies: Bolt's request parsing, middleware chain and listener dispatch cost several times
        the answer itself. Everything else (events, buttons, shortcuts) goes through Bolt.
        """
        raw = await request.read()
        headers = request.headers
        try:
            valid = self._verifier is not None and self._verifier.is_valid(
                raw, headers.get("X-Slack-Request-Timestamp", ""), headers.get("X-Slack-Signature", "")
            )
        except ValueError:  # a timestamp that is not a number
            valid = False
        if not valid:
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            body = raw.decode("utf-8")
            if request.content_type == FORM_CONTENT_TYPE and not body.startswith("payload="):
                form = parse_form(body)
                if form.get("command") == SLASH_COMMAND:
                    request_kind(form)
                    return web.Response(body=self.command_response(form), headers=JSON_RESPONSE_HEADERS)
            bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=dict(headers))
            request_kind(bolt_request.body)
        except (PayloadError, ValueError, TypeError, AttributeError, KeyError) as exc:
            log.warning("rejected a malformed Slack request: %s", type(exc).__name__ + ": " + str(exc)[:200])
            return web.json_response({"error": "malformed request"}, status=400)
        self._ensure_session()
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    # -- listeners (acknowledge now, work in the background) ---------------------------------------

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        # Over HTTP the front door answers `/microdosing` itself; this listener serves Socket Mode. The
        # answer is ready in microseconds, so it goes back in the acknowledgement (Slack shows an ack's
        # body as the command's reply): no response_url round trip. `ack.response` is set directly
        # because the JSON is encoded once per topic; `ack(...)` would re-encode it every time.
        try:
            answer = self.command_response(body)
        except PayloadError as exc:  # only over Socket Mode: the HTTP front door refuses these with 400
            log.warning("ignored a malformed Slack slash command: %s", exc)
            await ack()
            return
        ack.response = BoltResponse(status=200, body=answer.decode("utf-8"))

    def command_response(self, body: Mapping[str, Any]) -> bytes:
        """The JSON answer to a `/microdosing` slash command (raises PayloadError when malformed)."""
        request = to_command_request(body)
        shared = share_requested(str(body.get("text") or ""))[0]
        response_type = "in_channel" if shared else self._response_type
        reply = self.core.answer(request)
        # The core hands out the same Reply object per topic, so it is looked up by identity: hashing a
        # whole Reply (every section and source) for `command_response`'s cache costs more than the rest.
        # The entry holds the Reply, so its id cannot be reused while cached.
        key = (id(reply), response_type)
        cached = self._answers.get(key)
        if cached is not None and cached[0] is reply:
            return cached[1]
        encoded = command_response(reply, response_type)
        if len(self._answers) >= ANSWER_CACHE:
            self._answers.clear()
        self._answers[key] = (reply, encoded)
        return encoded

    async def _on_message(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        self._ensure_session()
        try:
            message = to_incoming_message(body, bot_user_id=context.bot_user_id or "")
        except PayloadError as exc:
            log.warning("ignored a malformed Slack message event: %s", exc)
            return
        if message is None or self._seen_before(message.event_id):
            return
        self._spawn(self._screen(message), "message event")

    async def _on_home_opened(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        self._ensure_session()
        user_id = event.get("user")
        if event.get("tab", "home") != "home" or not isinstance(user_id, str):
            return
        self._spawn(self._publish_home(user_id, str(body.get("team_id", ""))), "app_home_opened")

    async def _on_review_button(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        self._ensure_session()
        self._spawn(self._review(body), "review button")

    async def _on_report(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        self._ensure_session()
        self._spawn(self._report(body), "report shortcut")

    def _seen_before(self, event_id: str) -> bool:
        # Slack redelivers an event (X-Slack-Retry-Num) when it thinks we missed it; the core dedupes
        # too, but dropping the retry here saves the work.
        if not event_id:
            return False
        if event_id in self._seen:
            return True
        self._seen[event_id] = None
        if len(self._seen) > SEEN_EVENTS:
            self._seen.popitem(last=False)
        return False

    # -- members -----------------------------------------------------------------------------------

    def _moderators(self, team_id: str) -> tuple[str, ...]:
        """Who reviews a workspace's flags: its `servers.<team>.moderators`, else `slack.moderators`."""
        own = self.core.policy_for(team_id).moderators
        return self.slack.moderators if own is None else own

    def _mod_channel(self, team_id: str) -> str:
        """Where a workspace's alerts go: its `servers.<team>.mod_channel`, else `slack.mod_channel`."""
        own = self.core.policy_for(team_id).mod_channel
        return self.slack.mod_channel if own is None else own

    async def _is_moderator(self, user_id: str, team_id: str) -> bool:
        return await self.directory.is_listed(user_id, self._moderators(team_id))

    async def _server_of(self, flag_id: int, fallback: str) -> str:
        """The workspace a flag belongs to (the clicker's own when the flag cannot be read)."""
        try:
            return (await self.core.get_flag(flag_id)).ref.server_id
        except DosewiseError:
            return fallback

    # -- screening and alerts ----------------------------------------------------------------------

    async def _screen(self, message: IncomingMessage) -> None:
        author = message.author
        policy = self.core.policy_for(message.ref.server_id)
        moderators = self._moderators(message.ref.server_id)
        roles = await self.directory.groups_of(author.id, (*moderators, *policy.exempt_roles))
        is_moderator = author.id in moderators or any(r in moderators for r in roles)
        message = replace(message, author=replace(author, is_moderator=is_moderator, roles=roles))
        outcome = await self.core.screen(message)
        if outcome.flag is not None:
            await self._alert(outcome)

    async def _permalink(self, ref: MessageRef) -> str:
        if ref.permalink:
            return ref.permalink
        try:
            response = await self.client.chat_getPermalink(channel=ref.channel_id, message_ts=ref.message_id)
        except SlackApiError as exc:
            log.info("no permalink for %s/%s: %s", ref.channel_id, ref.message_id, api_error(exc))
            return ""
        link = response.get("permalink")
        return link if isinstance(link, str) else ""

    async def _delete(self, ref: MessageRef) -> tuple[DeleteResult, str]:
        """Delete a member's message with the admin (user) token; a bot token is not allowed to."""
        if not self.slack.admin_token:
            return DeleteResult.NO_ADMIN_TOKEN, ""
        try:
            await self.client.chat_delete(token=self.slack.admin_token, channel=ref.channel_id, ts=ref.message_id)
        except SlackApiError as exc:
            error = api_error(exc)
            if error == "message_not_found":
                return DeleteResult.ALREADY_GONE, ""
            log.warning("could not delete message %s/%s: %s", ref.channel_id, ref.message_id, error)
            return DeleteResult.FAILED, error
        return DeleteResult.DELETED, ""

    async def _alert(self, outcome: ScreenOutcome) -> None:
        """Post (new flag) or update (edited message) the moderators' alert and record where it is."""
        flag = outcome.flag
        if flag is None:
            return
        hidden, hide_error = DeleteResult.NOT_ASKED, ""
        permalink = await self._permalink(flag.ref)
        if outcome.hide and outcome.is_new:
            hidden, hide_error = await self._delete(flag.ref)
        message = render_alert(
            flag,
            permalink=permalink,
            escalation=outcome.escalation,
            hidden=hidden,
            hide_error=hide_error,
            stored=outcome.stored,
        )
        if flag.alert_ref is not None and not outcome.is_new:
            await self.client.chat_update(
                channel=flag.alert_ref.channel_id, ts=flag.alert_ref.message_id, **message.as_kwargs()
            )
            return
        mod_channel = self._mod_channel(flag.ref.server_id)
        if not mod_channel:
            log.warning("flag #%d raised but slack.mod_channel is not set: no alert posted", flag.id)
            return
        posted = await self.client.chat_postMessage(
            channel=mod_channel, unfurl_links=False, unfurl_media=False, **message.as_kwargs()
        )
        alert = MessageRef(
            platform=Platform.SLACK.value,
            server_id=flag.ref.server_id,
            channel_id=str(posted.get("channel") or mod_channel),
            message_id=str(posted["ts"]),
        )
        await self.core.record_alert(flag.id, alert)

    async def clear_alert(self, flag: Flag) -> bool:
        """Re-render a purged flag's alert without the message text; False means "try again later"."""
        if flag.alert_ref is None:
            return True
        self._ensure_session()
        message = render_alert(flag, permalink=flag.ref.permalink)
        try:
            await self.client.chat_update(
                channel=flag.alert_ref.channel_id, ts=flag.alert_ref.message_id, **message.as_kwargs()
            )
        except SlackApiError as exc:
            error = api_error(exc)
            if error in ALERT_GONE_ERRORS:
                # Nothing left to edit, or nothing this app may edit: retrying would not change that.
                log.info("alert of flag #%d not cleared: %s", flag.id, error)
                return True
            log.warning("could not clear the alert of flag #%d, will retry: %s", flag.id, error)
            return False
        return True

    # -- reports -----------------------------------------------------------------------------------

    async def _report(self, body: dict[str, Any]) -> None:
        reporter = user_from(body, "message_action")
        request = to_report_request(body, is_moderator=await self._is_moderator(reporter.id, _team_of(body)))
        outcome = await self.core.report(request)
        flag = outcome.flag
        if flag is None:
            return
        if outcome.is_new or flag.alert_ref is None:
            await self._alert(outcome)
            text = f"Thank you. The moderators have been told (flag #{flag.id})."
        else:
            text = f"Thank you. This message is already with the moderators (flag #{flag.id})."
        await self._tell(body, reporter.id, text)

    # -- reviews -----------------------------------------------------------------------------------

    async def _tell(self, body: dict[str, Any], user_id: str, text: str) -> None:
        """Say something to one person only: ephemeral where they clicked, else in the app's DM."""
        message = render_notice(text)
        place, channel = interaction_place(body)
        if place == "message" and channel:
            await self.client.chat_postEphemeral(channel=channel, user=user_id, **message.as_kwargs())
        else:
            await self.client.chat_postMessage(channel=user_id, **message.as_kwargs())

    async def _review(self, body: dict[str, Any]) -> None:
        user = user_from(body, "block_actions")
        place, _ = interaction_place(body)
        for pressed in to_review_requests(body, is_moderator=False):
            # Checked on every click, whatever the surface, against the moderators of the flag's own
            # workspace; the core refuses a non-moderator as well.
            server = await self._server_of(pressed.flag_id, _team_of(body))
            if not await self._is_moderator(user.id, server):
                await self._tell(body, user.id, NotAModerator().user_message)
                return
            request = replace(pressed, moderator=replace(pressed.moderator, is_moderator=True))
            try:
                outcome = await self.core.review(request)
            except FlagAlreadyReviewed as exc:
                await self._tell(body, user.id, exc.user_message)
                await self._refresh_alert(await self.core.get_flag(request.flag_id), body)
                continue
            except DosewiseError as exc:
                await self._tell(body, user.id, exc.user_message)
                continue
            flag = outcome.flag
            permalink = await self._permalink(flag.ref)
            delete, delete_error = DeleteResult.NOT_ASKED, ""
            if outcome.delete_message:
                delete, delete_error = await self._delete(flag.ref)
            message = render_reviewed(outcome, permalink=permalink, delete=delete, delete_error=delete_error)
            for channel, ts in self._alert_places(flag, body):
                await self.client.chat_update(channel=channel, ts=ts, **message.as_kwargs())
        if place == "view":
            await self._publish_home(user.id, _team_of(body))

    def _alert_places(self, flag: Flag, body: dict[str, Any]) -> list[tuple[str, str]]:
        """The recorded alert, plus the message the button was on when that is a different one."""
        places: list[tuple[str, str]] = []
        if flag.alert_ref is not None:
            places.append((flag.alert_ref.channel_id, flag.alert_ref.message_id))
        container = body.get("container")
        if isinstance(container, dict) and container.get("type") == "message" and not container.get("is_ephemeral"):
            here = (str(container.get("channel_id", "")), str(container.get("message_ts", "")))
            if all(here) and here not in places:
                places.append(here)
        return places

    async def _refresh_alert(self, flag: Flag, body: dict[str, Any]) -> None:
        """Show a flag's current state on its alert (after a review raced with another moderator's)."""
        message = render_alert(flag, permalink=await self._permalink(flag.ref))
        for channel, ts in self._alert_places(flag, body):
            await self.client.chat_update(channel=channel, ts=ts, **message.as_kwargs())

    # -- App Home ----------------------------------------------------------------------------------

    async def _publish_home(self, user_id: str, team_id: str) -> None:
        is_moderator = await self._is_moderator(user_id, team_id)
        flags: list[Flag] = []
        if is_moderator:
            flags = list(await self.core.pending_flags(team_id or None, limit=HOME_FLAGS + 1))
        view = render_home(flags[:HOME_FLAGS], is_moderator=is_moderator, more=len(flags) > HOME_FLAGS)
        await self.client.views_publish(user_id=user_id, view=view)


def _team_of(body: dict[str, Any]) -> str:
    team = body.get("team")
    if isinstance(team, dict) and isinstance(team.get("id"), str):
        return str(team["id"])
    user = body.get("user")
    if isinstance(user, dict) and isinstance(user.get("team_id"), str):
        return str(user["team_id"])
    return ""


def build_bot(core: BotCore, settings: Settings, *, client: AsyncWebClient | None = None) -> SlackBot:
    """The whole adapter (app, client, background tasks, HTTP front door)."""
    return SlackBot(core, settings, client=client)


def build_app(core: BotCore, settings: Settings, *, client: AsyncWebClient | None = None) -> AsyncApp:
    """The Bolt app with every Dosewise listener registered."""
    return build_bot(core, settings, client=client).app


__all__ = ["GroupDirectory", "SlackBot", "api_base_url", "build_app", "build_bot", "make_client"]
