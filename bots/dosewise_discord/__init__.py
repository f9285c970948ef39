"""Discord adapter: slash commands, screening of messages and edits, moderator alerts with buttons."""

from dosewise_discord.client import build_client

__all__ = ["build_client"]
