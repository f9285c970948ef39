"""The discord.py clients (plain and auto-sharded) wired to a `DiscordAdapter`."""

from __future__ import annotations

from typing import Any

import discord

from dosewise.core import BotCore
from dosewise.settings import Settings
from dosewise_discord.adapter import DiscordAdapter
from dosewise_discord.commands import DosewiseTree, build_tree


def intents() -> discord.Intents:
    """Guilds, guild messages and the privileged message content: nothing about members or presences."""
    value = discord.Intents.none()
    value.guilds = True
    value.guild_messages = True
    value.message_content = True
    return value


class _Dosewise:
    """Event methods shared by both clients; discord.py finds `on_*` and `setup_hook` by name."""

    dosewise: DiscordAdapter
    tree: DosewiseTree

    async def setup_hook(self) -> None:
        """Register buttons and sync commands once logged in."""
        await self.dosewise.setup(self.tree)

    async def on_message(self, message: discord.Message) -> None:
        """Screen every new message."""
        await self.dosewise.on_message(message)

    async def on_raw_message_edit(self, event: discord.RawMessageUpdateEvent) -> None:
        """Screen every edit, including of messages no longer in the cache."""
        await self.dosewise.on_raw_message_edit(event)


class DosewiseClient(_Dosewise, discord.Client):
    """One gateway connection: enough up to 2,500 servers."""


class ShardedDosewiseClient(_Dosewise, discord.AutoShardedClient):
    """Several shards in one process, as configured by `discord.shard_count` / `discord.shard_ids`."""


def build_client(core: BotCore, settings: Settings, **options: Any) -> discord.Client:
    """Build the Discord client for `core`; `options` go to discord.py (e.g. `guild_ready_timeout`)."""
    config = settings.discord
    options.setdefault("intents", intents())
    # Alerts quote members; nothing the bot posts should ever ping anyone.
    options.setdefault("allowed_mentions", discord.AllowedMentions.none())
    client: DosewiseClient | ShardedDosewiseClient
    if config.shard_count is not None or config.shard_ids is not None:
        if config.shard_ids is not None:
            options["shard_ids"] = list(config.shard_ids)
        client = ShardedDosewiseClient(shard_count=config.shard_count, **options)
    else:
        client = DosewiseClient(**options)
    client.dosewise = DiscordAdapter(core, settings, client)
    client.tree = build_tree(client, client.dosewise)
    return client
