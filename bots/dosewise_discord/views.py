"""Persistent review buttons: their state lives in the custom id, so they keep working after a restart."""

from __future__ import annotations

import re
from typing import Any, Protocol, runtime_checkable

import discord

from dosewise.models import ModAction
from dosewise_discord.translate import CUSTOM_ID_TEMPLATE

# Label and style per action, in the order the buttons appear on an alert.
BUTTONS: tuple[tuple[ModAction, str, discord.ButtonStyle], ...] = (
    (ModAction.DISMISS, "Dismiss", discord.ButtonStyle.secondary),
    (ModAction.UPHOLD, "Uphold", discord.ButtonStyle.primary),
    (ModAction.DELETE, "Delete message", discord.ButtonStyle.danger),
    (ModAction.TIMEOUT, "Time out", discord.ButtonStyle.danger),
    (ModAction.BAN, "Ban", discord.ButtonStyle.danger),
)


@runtime_checkable
class ReviewHandler(Protocol):
    """What a button needs from the adapter: someone to carry out the click."""

    async def on_review_click(self, interaction: discord.Interaction, flag_id: int, action: str) -> None:
        """Check rights, review the flag, edit the alert, carry out the action."""


class FlagButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID_TEMPLATE):
    """One review button, `dosewise:flag:<id>:<action>`, rebuilt from its id on every click."""

    def __init__(self, flag_id: int, action: str, label: str = "", style: discord.ButtonStyle | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or action.capitalize(),
                style=style or discord.ButtonStyle.secondary,
                custom_id=f"dosewise:flag:{flag_id}:{action}",
            )
        )
        self.flag_id = flag_id
        self.action = action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FlagButton:
        """Rebuild the button from a click; an unknown action is refused in the callback, not here."""
        return cls(int(match["id"]), match["action"])

    async def callback(self, interaction: discord.Interaction) -> None:
        """Hand the click to the adapter attached to the client."""
        handler = getattr(interaction.client, "dosewise", None)
        if isinstance(handler, ReviewHandler):
            await handler.on_review_click(interaction, self.flag_id, self.action)


def alert_view(flag_id: int, timeout_minutes: int) -> discord.ui.View:
    """The row of review buttons for an open flag."""
    view = discord.ui.View(timeout=None)
    for action, label, style in BUTTONS:
        text = f"{label} {timeout_minutes} min" if action is ModAction.TIMEOUT else label
        button = FlagButton(flag_id, action.value, text, style)
        view.add_item(button)
    return view
