"""`dosewise run discord`: log in with DISCORD_TOKEN and serve until stopped."""

from __future__ import annotations

import logging

from dosewise.core import BotCore
from dosewise.errors import ConfigError
from dosewise.settings import Settings
from dosewise_discord.client import build_client

log = logging.getLogger(__name__)


async def run_discord(core: BotCore, settings: Settings) -> None:
    """Run the Discord bot until the connection closes or the task is cancelled."""
    token = settings.discord.token
    if not token:
        raise ConfigError(["DISCORD_TOKEN: not set; put the bot token in the environment (never in config)"])
    client = build_client(core, settings)
    shards = settings.discord.shard_ids or "all"
    # The token is never logged: not here, and settings objects are never printed whole.
    log.info("starting Discord bot (shard_count=%s, shards=%s)", settings.discord.shard_count, shards)
    async with client:
        await client.start(token)
