"""The fake itself: a bare discord.py client logs in, receives its guild, syncs a command."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from tests.dosewise_discord.conftest import start_client, stop_client
from tests.dosewise_discord.fake_discord import FakeDiscord


async def test_bare_client_logs_in_and_syncs(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    tree = app_commands.CommandTree(client)

    @tree.command(name="ping", description="Ping")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    running = await start_client(client)
    try:
        assert [g.id for g in client.guilds] == [fake.guild_id]
        guild = client.guilds[0]
        assert guild.get_thread(fake.post_id) is not None
        synced = await tree.sync()
        assert [c.name for c in synced] == ["ping"]
        await fake.slash(fake.alice, "ping")
        callback = await fake.wait_for_request("POST", r"/interactions/\d+/[^/]+/callback")
        assert callback.body["data"]["content"] == "pong"
        sync = fake.calls("PUT", rf"/applications/{fake.application_id}/commands")[0]
        assert sync.headers["Authorization"] == "Bot fake-token-never-logged"
        assert "Authorization" not in callback.headers  # interaction callbacks use the token in the URL
    finally:
        await stop_client(running)


async def test_unknown_routes_are_recorded(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    running = await start_client(client)
    try:
        with pytest.raises(discord.NotFound):
            await client.fetch_invite("abc")
        assert fake.unknown == ["GET /invites/abc"]
        fake.unknown.clear()
    finally:
        await stop_client(running)
