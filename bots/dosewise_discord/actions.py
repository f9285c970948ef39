"""Carrying out moderation on Discord: delete, time out, ban; each returns a line for the alert.

Nothing here raises on a refusal from Discord: missing permissions, a message already gone or a member who
left are normal in moderation, and the moderator must read what happened in the alert.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import discord

from dosewise.models import MessageRef, ReviewOutcome
from dosewise_discord.render import duration_text

log = logging.getLogger(__name__)

# Discord caps a timeout at 28 days.
MAX_TIMEOUT = timedelta(days=28)


def _why(exc: discord.HTTPException) -> str:
    return f"{exc.status} {exc.text or exc.__class__.__name__}".strip()


async def delete_message(client: discord.Client, ref: MessageRef, *, automatic: bool = False) -> str:
    """Delete a member's message; say whether it worked and why not."""
    guild_id = int(ref.server_id) if ref.server_id else None
    channel = client.get_partial_messageable(int(ref.channel_id), guild_id=guild_id)
    try:
        await channel.get_partial_message(int(ref.message_id)).delete()
    except discord.NotFound:
        return "The message was already deleted."
    except discord.Forbidden as exc:
        return f"Could not delete the message: the bot lacks Manage Messages in <#{ref.channel_id}> ({_why(exc)})."
    except discord.HTTPException as exc:
        log.warning("deleting message %s failed: %s", ref.message_id, _why(exc))
        return f"Could not delete the message: Discord answered {_why(exc)}."
    return "Message deleted automatically (hide mode)." if automatic else "Message deleted."


async def timeout_member(client: discord.Client, server_id: str, user_id: str, seconds: int, reason: str) -> str:
    """Time a member out; say whether it worked and why not."""
    guild = client.get_guild(int(server_id)) if server_id else None
    if guild is None:
        return f"Could not time out <@{user_id}>: the bot is not in that server."
    duration = min(timedelta(seconds=max(seconds, 60)), MAX_TIMEOUT)
    try:
        member = guild.get_member(int(user_id)) or await guild.fetch_member(int(user_id))
        await member.timeout(duration, reason=reason)
    except discord.NotFound:
        return f"Could not time out <@{user_id}>: they are no longer a member."
    except discord.Forbidden as exc:
        return f"Could not time out <@{user_id}>: the bot needs Moderate Members and a role above theirs ({_why(exc)})."
    except discord.HTTPException as exc:
        log.warning("timing out %s failed: %s", user_id, _why(exc))
        return f"Could not time out <@{user_id}>: Discord answered {_why(exc)}."
    return f"<@{user_id}> timed out for {duration_text(int(duration.total_seconds()))}."


async def ban_member(client: discord.Client, server_id: str, user_id: str, reason: str) -> str:
    """Ban a member (their messages stay for the record); say whether it worked and why not."""
    guild = client.get_guild(int(server_id)) if server_id else None
    if guild is None:
        return f"Could not ban <@{user_id}>: the bot is not in that server."
    try:
        await guild.ban(discord.Object(int(user_id)), reason=reason, delete_message_seconds=0)
    except discord.NotFound:
        return f"Could not ban <@{user_id}>: Discord does not know that user."
    except discord.Forbidden as exc:
        return f"Could not ban <@{user_id}>: the bot needs Ban Members and a role above theirs ({_why(exc)})."
    except discord.HTTPException as exc:
        log.warning("banning %s failed: %s", user_id, _why(exc))
        return f"Could not ban <@{user_id}>: Discord answered {_why(exc)}."
    return f"<@{user_id}> banned."


async def carry_out(client: discord.Client, outcome: ReviewOutcome) -> list[str]:
    """Do what a review decided, in order delete → timeout → ban; one line per action."""
    flag = outcome.flag
    reason = f"Dosewise flag #{flag.id}: {outcome.action.value} by {outcome.moderator.name or outcome.moderator.id}"
    notes: list[str] = []
    if outcome.delete_message:
        notes.append(await delete_message(client, flag.ref))
    if outcome.timeout_seconds:
        notes.append(await timeout_member(client, flag.ref.server_id, flag.author.id, outcome.timeout_seconds, reason))
    if outcome.ban:
        notes.append(await ban_member(client, flag.ref.server_id, flag.author.id, reason))
    escalation = outcome.escalation
    if escalation is not None and escalation.apply and not outcome.timeout_seconds and not outcome.ban:
        # The policy says repeat offenders are timed out without waiting for a moderator's second click.
        repeat = f"{reason} (repeat offender: {escalation.upheld} upheld in {escalation.window_days} days)"
        notes.append(
            await timeout_member(client, flag.ref.server_id, flag.author.id, escalation.timeout_seconds, repeat)
        )
    return notes
