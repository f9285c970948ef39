"""Application commands: `/microdosing`, `/flags list|show` and the "Report to moderators" menu."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands

from dosewise.models import FlagStatus

if TYPE_CHECKING:
    from dosewise_discord.adapter import DiscordAdapter

log = logging.getLogger(__name__)

REPORT_MENU = "Report to moderators"


class DosewiseTree(app_commands.CommandTree[discord.Client]):
    """A command tree whose unexpected errors are logged once and told to the member, not swallowed."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """Log the failure and answer privately so the member is not left with "interaction failed"."""
        name = interaction.command.qualified_name if interaction.command else "?"
        log.error("command /%s failed", name, exc_info=error)
        text = "Something went wrong with this command; please try again later."
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            pass


def build_tree(client: discord.Client, adapter: DiscordAdapter) -> DosewiseTree:
    """Create the client's command tree with every Dosewise command bound to `adapter`."""
    tree = DosewiseTree(client)

    @app_commands.command(name="microdosing", description="Balanced, sourced answers about microdosing")
    @app_commands.describe(
        topic="A topic (start typing to search)",
        question="Or ask a question in your own words",
        private="Only you see the answer (default: yes)",
    )
    async def microdosing(
        interaction: discord.Interaction,
        topic: app_commands.Range[str, 1, 100] | None = None,
        question: app_commands.Range[str, 1, 300] | None = None,
        private: bool = True,
    ) -> None:
        await adapter.microdosing(interaction, topic or question or "", private)

    @microdosing.autocomplete("topic")
    async def topic_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return adapter.topic_choices(current)

    flags = app_commands.Group(
        name="flags",
        description="Review flagged messages (moderators)",
        default_permissions=discord.Permissions(manage_messages=True),
        guild_only=True,
    )

    @flags.command(name="list", description="Flags of this server: open ones by default")
    @app_commands.describe(status="Which flags to list")
    async def flags_list(
        interaction: discord.Interaction, status: Literal["open", "upheld", "dismissed"] = "open"
    ) -> None:
        await adapter.flags_list(interaction, FlagStatus(status))

    @flags.command(name="show", description="Show one flag, with review buttons while it is open")
    @app_commands.describe(flag_id="The flag number, as in the alert's title")
    async def flags_show(interaction: discord.Interaction, flag_id: app_commands.Range[int, 1]) -> None:
        await adapter.flags_show(interaction, flag_id)

    @app_commands.guild_only()
    async def report(interaction: discord.Interaction, message: discord.Message) -> None:
        await adapter.report(interaction, message)

    tree.add_command(microdosing)
    tree.add_command(flags)
    tree.add_command(app_commands.ContextMenu(name=REPORT_MENU, callback=report))
    return tree
