"""Pure translation from discord.py objects and payloads to the core's data types (no network)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import discord

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

CUSTOM_ID_TEMPLATE = r"dosewise:flag:(?P<id>\d+):(?P<action>\w+)"
_CUSTOM_ID = re.compile(CUSTOM_ID_TEMPLATE)
# The time-out menu keeps the id the time-out button had, so a flag's ids never change meaning; old alerts
# still carry that button, and the component type tells the two apart.
TIMEOUT_MENU_TEMPLATE = r"dosewise:flag:(?P<id>\d+):timeout"
# Discord caps a timeout at 28 days.
MAX_TIMEOUT_MINUTES = 28 * 24 * 60
_MINUTES = re.compile(r"[0-9]{1,6}")

# Member messages worth screening; joins, pins, boosts and command echoes carry no member text.
_SCREENED_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})


def custom_id(flag_id: int, action: ModAction) -> str:
    """The persistent button id for one review action on one flag."""
    return f"dosewise:flag:{flag_id}:{action.value}"


def parse_custom_id(value: str) -> tuple[int, ModAction] | None:
    """Flag id and action from a button id, or None if it is not one of ours."""
    match = _CUSTOM_ID.fullmatch(value)
    if match is None:
        return None
    try:
        return int(match["id"]), ModAction(match["action"])
    except ValueError:
        return None


def timeout_minutes(values: Sequence[str]) -> int | None:
    """The duration picked in the time-out menu, in minutes, or None if it is not one Discord allows."""
    if len(values) != 1 or _MINUTES.fullmatch(values[0]) is None:
        return None
    minutes = int(values[0])
    return minutes if 1 <= minutes <= MAX_TIMEOUT_MINUTES else None


def is_component(data: Mapping[str, object] | None, kind: discord.ComponentType) -> bool:
    """Whether an interaction's payload comes from a component of this kind (a button, a string menu)."""
    return data is not None and data.get("component_type") == kind.value


def is_moderator(
    roles: Iterable[discord.Role], permissions: discord.Permissions | None, moderator_roles: Sequence[str]
) -> bool:
    """A moderator holds a configured role (by id or name) or the Manage Messages permission."""
    if permissions is not None and (permissions.manage_messages or permissions.administrator):
        return True
    wanted = {r.strip().lower().lstrip("@") for r in moderator_roles}
    return any(str(role.id) in wanted or role.name.lower() in wanted for role in roles)


def user_ref(
    user: discord.User | discord.Member,
    moderator_roles: Sequence[str],
    permissions: discord.Permissions | None = None,
) -> UserRef:
    """A member as the core sees them; `permissions` defaults to the member's guild permissions."""
    if isinstance(user, discord.Member):
        roles = [r for r in user.roles if not r.is_default()]
        perms = permissions if permissions is not None else user.guild_permissions
        return UserRef(
            id=str(user.id),
            name=user.display_name,
            is_moderator=is_moderator(roles, perms, moderator_roles),
            roles=tuple(r.name for r in roles),
            is_bot=user.bot,
        )
    return UserRef(id=str(user.id), name=user.display_name, is_bot=user.bot)


def interaction_user(interaction: discord.Interaction, moderator_roles: Sequence[str]) -> UserRef:
    """Who clicked or ran a command; Discord computed their channel permissions for us."""
    return user_ref(interaction.user, moderator_roles, interaction.permissions)


def skip_reason(message: discord.Message, self_id: int | None, mod_channel_id: int | None = None) -> str:
    """Why a message is not screened ("" when it should be): DMs, bots, ourselves, system messages."""
    if message.guild is None:
        return "direct message"
    if self_id is not None and message.author.id == self_id:
        return "own message"
    if message.author.bot or message.webhook_id is not None:
        return "bot author"
    if message.type not in _SCREENED_TYPES:
        return "system message"
    if mod_channel_id is not None and message.channel.id == mod_channel_id:
        return "mod channel"
    if not message.content:
        return "no text"
    return ""


def message_ref(message: discord.Message, guild_id: int | None = None) -> MessageRef:
    """Where a message lives, with its jump link; `guild_id` fills in for a message resolved without one."""
    server = message.guild.id if message.guild is not None else guild_id
    where = str(server) if server is not None else "@me"
    return MessageRef(
        platform=Platform.DISCORD.value,
        server_id=str(server) if server is not None else "",
        channel_id=str(message.channel.id),
        message_id=str(message.id),
        permalink=f"https://discord.com/channels/{where}/{message.channel.id}/{message.id}",
    )


def incoming_message(
    message: discord.Message, moderator_roles: Sequence[str], guild_id: int | None = None
) -> IncomingMessage:
    """A new or edited message for `BotCore.screen`; an edit's delivery id includes its edit time."""
    edited_at = message.edited_at
    event_id = f"{message.id}:{edited_at.isoformat()}" if edited_at else str(message.id)
    return IncomingMessage(
        ref=message_ref(message, guild_id),
        author=user_ref(message.author, moderator_roles),
        text=message.content,
        sent_at=edited_at or message.created_at,
        edited=edited_at is not None,
        event_id=event_id,
    )


def is_real_edit(event: discord.RawMessageUpdateEvent) -> bool:
    """MESSAGE_UPDATE also fires for link embeds unfolding; only a set `edited_timestamp` is an edit."""
    return event.data.get("edited_timestamp") is not None


def command_request(interaction: discord.Interaction, moderator_roles: Sequence[str], text: str) -> CommandRequest:
    """A `/microdosing` invocation for `BotCore.answer`."""
    return CommandRequest(
        platform=Platform.DISCORD.value,
        server_id=str(interaction.guild_id or ""),
        channel_id=str(interaction.channel_id or ""),
        user=interaction_user(interaction, moderator_roles),
        text=text.strip(),
    )


def report_request(
    interaction: discord.Interaction, message: discord.Message, moderator_roles: Sequence[str]
) -> ReportRequest:
    """A member's "Report to moderators" on a message."""
    return ReportRequest(
        # A message resolved for a context menu may arrive without its guild attached.
        message=incoming_message(message, moderator_roles, interaction.guild_id),
        reporter=interaction_user(interaction, moderator_roles),
    )


def review_request(
    flag_id: int,
    action: ModAction,
    moderator: UserRef,
    default_timeout_seconds: int,
    minutes: int | None = None,
) -> ReviewRequest:
    """A click or pick as a review; a timeout lasts the `minutes` picked, else the configured default."""
    seconds = minutes * 60 if minutes else default_timeout_seconds
    return ReviewRequest(
        flag_id=flag_id,
        action=action,
        moderator=moderator,
        timeout_seconds=seconds if action is ModAction.TIMEOUT else None,
    )


def review_from_custom_id(value: str, moderator: UserRef, default_timeout_seconds: int) -> ReviewRequest | None:
    """A `ReviewRequest` from a button's custom id, or None if the id is not ours."""
    parsed = parse_custom_id(value)
    if parsed is None:
        return None
    return review_request(parsed[0], parsed[1], moderator, default_timeout_seconds)
