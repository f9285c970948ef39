"""Pure translation of Slack payloads into the core's data types.

Nothing here touches the network. Every function raises `PayloadError` when a field it needs is missing
or has the wrong type, so the HTTP edge can answer 400 instead of letting a traceback escape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from dosewise.models import (
    CommandRequest,
    IncomingMessage,
    MessageRef,
    ModAction,
    Platform,
    ReportRequest,
    ReviewRequest,
    UserRef,
)

BUTTON_PREFIX = "dosewise:flag:"
# Negative ids are the core's provisional ids for flags queued while the database was unavailable.
BUTTON_PATTERN = re.compile(r"^dosewise:flag:(-?\d{1,18}):([a-z]+)$")
REPORT_CALLBACK_ID = "dosewise_report"

# Message subtypes that carry what a member wrote; everything else (joins, topic changes, bot posts,
# deletions, thread-reply notifications) is not user content and is not screened.
USER_SUBTYPES = frozenset({"", "thread_broadcast", "file_share", "me_message"})
EDIT_SUBTYPE = "message_changed"
# Direct messages to the app are private conversations: they are not ours to show to moderators.
PRIVATE_CHANNEL_TYPES = frozenset({"im"})

HELP_WORDS = frozenset({"", "help", "topics", "list", "?"})
# `/microdosing share risks` posts the answer for the whole channel; answers are private otherwise.
SHARE_WORDS = frozenset({"share", "public"})
SLACK_MARKUP = re.compile(r"<([^<>\n]{1,3000})>")


class PayloadError(ValueError):
    """A Slack payload is malformed: a required field is missing or has the wrong type."""


def parse_form(body: str) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body as a dict (the first value wins, blanks are kept).

    A lean `urllib.parse.parse_qsl`: most fields of a slash command need no unquoting at all.
    """
    form: dict[str, str] = {}
    for pair in body.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        if "%" in key or "+" in key:
            key = unquote_plus(key)
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        form.setdefault(key, value)
    return form


def _field(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data or data[key] is None:
        raise PayloadError(f"{where}.{key} is missing")
    return data[key]


def _str(data: Mapping[str, Any], key: str, where: str) -> str:
    value = _field(data, key, where)
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{where}.{key} must be a non-empty string")
    return value


def _opt_str(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{where}.{key} must be a string")
    return value


def _map(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = _field(data, key, where)
    if not isinstance(value, Mapping):
        raise PayloadError(f"{where}.{key} must be an object")
    return value


def ts_to_datetime(ts: str) -> datetime:
    """Convert a Slack timestamp ("1712345678.000100") to an aware UTC datetime."""
    try:
        return datetime.fromtimestamp(float(ts), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise PayloadError(f"not a Slack timestamp: {ts!r}") from None


def _readable(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target[:1] in ("@", "#"):
        return f"{target[0]}{label}" if label else target
    if target.startswith("!"):
        # <!here>, <!channel>, <!subteam^S123|@mods>, <!date^...|fallback>
        return label or "@" + target[1:].split("^")[0]
    if label and label not in target:
        return f"{label} ({target})"
    return target


def plain_text(text: str) -> str:
    """Slack message markup as the member sees it: mentions and links readable, entities unescaped.

    The detector and the moderators read this form; the renderer escapes it again for Slack.
    """
    readable = SLACK_MARKUP.sub(_readable, text)
    return readable.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def button_id(flag_id: int, action: ModAction) -> str:
    """The persistent id of a review button: `dosewise:flag:<id>:<action>`."""
    return f"{BUTTON_PREFIX}{flag_id}:{action.value}"


def parse_button_id(value: str) -> tuple[int, ModAction]:
    """Split a review button id into flag id and action; raises PayloadError when it is not ours."""
    match = BUTTON_PATTERN.match(value)
    if match is None:
        raise PayloadError(f"not a review button: {value[:80]!r}")
    try:
        return int(match.group(1)), ModAction(match.group(2))
    except ValueError:
        raise PayloadError(f"unknown review action: {match.group(2)!r}") from None


def request_kind(body: Any) -> str:
    """Check the envelope of a parsed request and name its kind; raises PayloadError when malformed.

    Kinds: `command`, `event`, `url_verification`, `block_actions`, `message_action`, `other`.
    Only the fields the adapter relies on are checked, so Slack can add fields freely.
    """
    if not isinstance(body, Mapping) or not body:
        raise PayloadError("the request body is not an object")
    if "command" in body:
        for key in ("command", "user_id", "channel_id", "team_id", "response_url"):
            _str(body, key, "command")
        return "command"
    kind = body.get("type")
    if kind == "url_verification":
        _str(body, "challenge", "url_verification")
        return "url_verification"
    if kind == "event_callback":
        _str(body, "team_id", "event_callback")
        event = _map(body, "event", "event_callback")
        _str(event, "type", "event")
        return "event"
    if kind == "block_actions":
        _str(_map(body, "user", "block_actions"), "id", "block_actions.user")
        actions = _field(body, "actions", "block_actions")
        if not isinstance(actions, Sequence) or isinstance(actions, str) or not actions:
            raise PayloadError("block_actions.actions must be a non-empty list")
        for action in actions:
            if not isinstance(action, Mapping):
                raise PayloadError("block_actions.actions[] must be objects")
            _str(action, "action_id", "block_actions.actions[]")
        return "block_actions"
    if kind == "message_action":
        _str(body, "callback_id", "message_action")
        to_report_request(body)
        return "message_action"
    if not isinstance(kind, str):
        raise PayloadError("the request has no type")
    return "other"


def user_from(data: Mapping[str, Any], where: str, *, is_moderator: bool = False) -> UserRef:
    """A UserRef from an interactive payload's `user` object (`username` is the handle Slack sends)."""
    user = _map(data, "user", where)
    name = _opt_str(user, "username", where + ".user") or _opt_str(user, "name", where + ".user")
    return UserRef(id=_str(user, "id", where + ".user"), name=name, is_moderator=is_moderator)


def command_text(text: str) -> str:
    """Normalise what follows `/microdosing`: `help` and friends mean "list the topics" (empty text)."""
    cleaned = " ".join(text.split())
    return "" if cleaned.lower() in HELP_WORDS else cleaned


def share_requested(text: str) -> tuple[bool, str]:
    """Split a leading `share` (post the answer in the channel) off the command text: `share risks`."""
    first, _, rest = " ".join(text.split()).partition(" ")
    if first.lower() in SHARE_WORDS and rest:
        return True, rest
    return False, text


def to_command_request(body: Mapping[str, Any], *, is_moderator: bool = False) -> CommandRequest:
    """Translate a slash command form into a CommandRequest."""
    user = UserRef(
        id=_str(body, "user_id", "command"),
        name=_opt_str(body, "user_name", "command"),
        is_moderator=is_moderator,
    )
    return CommandRequest(
        platform=Platform.SLACK.value,
        server_id=_str(body, "team_id", "command"),
        channel_id=_str(body, "channel_id", "command"),
        user=user,
        text=command_text(share_requested(_opt_str(body, "text", "command"))[1]),
    )


def to_incoming_message(
    body: Mapping[str, Any], *, bot_user_id: str = "", is_moderator: bool = False
) -> IncomingMessage | None:
    """Translate a `message` event envelope; None when it is not member content worth screening.

    Skipped: bot posts (any `bot_id`), the app's own user, non-content subtypes, direct messages, and
    `message_changed` events whose text did not change (link unfurls arrive as edits).
    """
    team_id = _str(body, "team_id", "event_callback")
    event = _map(body, "event", "event_callback")
    if event.get("type") != "message":
        return None
    channel = _str(event, "channel", "event")
    if event.get("channel_type") in PRIVATE_CHANNEL_TYPES:
        return None
    subtype = _opt_str(event, "subtype", "event")
    edited = subtype == EDIT_SUBTYPE
    if edited:
        message = _map(event, "message", "event")
        previous = event.get("previous_message")
        inner_subtype = _opt_str(message, "subtype", "event.message")
        if inner_subtype not in USER_SUBTYPES:
            return None
        if isinstance(previous, Mapping) and previous.get("text") == message.get("text"):
            return None
    elif subtype in USER_SUBTYPES:
        message = event
    else:
        return None
    where = "event.message" if edited else "event"
    if message.get("bot_id") or message.get("bot_profile"):
        return None
    user_id = _opt_str(message, "user", where)
    if not user_id or (bot_user_id and user_id == bot_user_id):
        return None
    ts = _str(message, "ts", where)
    edit = message.get("edited")
    if edited and isinstance(edit, Mapping) and isinstance(edit.get("ts"), str):
        sent_at = ts_to_datetime(edit["ts"])
    elif edited and isinstance(event.get("event_ts"), str):
        sent_at = ts_to_datetime(event["event_ts"])
    else:
        sent_at = ts_to_datetime(ts)
    return IncomingMessage(
        ref=MessageRef(platform=Platform.SLACK.value, server_id=team_id, channel_id=channel, message_id=ts),
        author=UserRef(id=user_id, is_moderator=is_moderator),
        text=plain_text(_opt_str(message, "text", where)),
        sent_at=sent_at,
        edited=edited,
        event_id=_opt_str(body, "event_id", "event_callback"),
    )


def review_actions(body: Mapping[str, Any]) -> tuple[tuple[int, ModAction], ...]:
    """The review buttons pressed in a `block_actions` payload (normally exactly one)."""
    found: list[tuple[int, ModAction]] = []
    actions = _field(body, "actions", "block_actions")
    if not isinstance(actions, Sequence) or isinstance(actions, str):
        raise PayloadError("block_actions.actions must be a list")
    for action in actions:
        if not isinstance(action, Mapping):
            raise PayloadError("block_actions.actions[] must be objects")
        action_id = _str(action, "action_id", "block_actions.actions[]")
        value = _opt_str(action, "value", "block_actions.actions[]")
        # The id travels in action_id; the value carries it too so either alone identifies the button.
        candidate = action_id if action_id.startswith(BUTTON_PREFIX) else value
        if candidate.startswith(BUTTON_PREFIX):
            found.append(parse_button_id(candidate))
    return tuple(found)


def to_review_requests(body: Mapping[str, Any], *, is_moderator: bool) -> tuple[ReviewRequest, ...]:
    """Translate a `block_actions` payload into one ReviewRequest per review button pressed."""
    moderator = user_from(body, "block_actions", is_moderator=is_moderator)
    return tuple(
        ReviewRequest(flag_id=flag_id, action=action, moderator=moderator) for flag_id, action in review_actions(body)
    )


def to_report_request(body: Mapping[str, Any], *, is_moderator: bool = False) -> ReportRequest:
    """Translate a "Report to moderators" message shortcut into a ReportRequest."""
    where = "message_action"
    team_id = _str(_map(body, "team", where), "id", where + ".team")
    channel_id = _str(_map(body, "channel", where), "id", where + ".channel")
    message = _map(body, "message", where)
    ts = _str(message, "ts", where + ".message")
    # A reported bot post has no `user`; its bot id still names the author for the moderators.
    author_id = _opt_str(message, "user", where + ".message") or _opt_str(message, "bot_id", where + ".message")
    if not author_id:
        raise PayloadError(f"{where}.message has neither user nor bot_id")
    incoming = IncomingMessage(
        ref=MessageRef(platform=Platform.SLACK.value, server_id=team_id, channel_id=channel_id, message_id=ts),
        author=UserRef(id=author_id, is_bot=bool(message.get("bot_id"))),
        text=plain_text(_opt_str(message, "text", where + ".message")),
        sent_at=ts_to_datetime(ts),
    )
    return ReportRequest(message=incoming, reporter=user_from(body, where, is_moderator=is_moderator))


def interaction_place(body: Mapping[str, Any]) -> tuple[str, str]:
    """Where an interaction happened: ("message", channel id) or ("view", "") for the App Home."""
    container = body.get("container")
    if isinstance(container, Mapping) and container.get("type") == "view":
        return "view", ""
    channel = body.get("channel")
    if isinstance(channel, Mapping) and isinstance(channel.get("id"), str):
        return "message", channel["id"]
    if isinstance(container, Mapping) and isinstance(container.get("channel_id"), str):
        return "message", container["channel_id"]
    return "view", ""
