"""Persistent review components: their state lives in the custom id, so they keep working after a restart.

An alert has one row of buttons (dismiss, uphold, delete, ban) and one row with the time-out menu: two
of Discord's five action rows, ids well under its 100 characters. The menu's id is the one the time-out
button used to have, `dosewise:flag:<id>:timeout`, and the picked duration travels in the interaction's
values, so ids never change meaning. Alerts posted before the menu existed still carry that button, which
applies the configured default duration.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import discord

from dosewise.models import ModAction
from dosewise_discord.render import duration_text
from dosewise_discord.translate import CUSTOM_ID_TEMPLATE, TIMEOUT_MENU_TEMPLATE, custom_id, is_component

# Label and style per button, in the order they appear on an alert; time-outs have their own menu.
BUTTONS: tuple[tuple[ModAction, str, discord.ButtonStyle], ...] = (
    (ModAction.DISMISS, "Dismiss", discord.ButtonStyle.secondary),
    (ModAction.UPHOLD, "Uphold", discord.ButtonStyle.primary),
    (ModAction.DELETE, "Delete message", discord.ButtonStyle.danger),
    (ModAction.BAN, "Ban", discord.ButtonStyle.danger),
)
# The durations the time-out menu offers, in minutes: 10 min, 1 hour, 1 day, 1 week.
TIMEOUT_CHOICES: tuple[int, ...] = (10, 60, 24 * 60, 7 * 24 * 60)
TIMEOUT_PLACEHOLDER = "Time out the author for…"


@runtime_checkable
class ReviewHandler(Protocol):
    """What a button or menu needs from the adapter: someone to carry out the review."""

    async def on_review_click(
        self, interaction: discord.Interaction, flag_id: int, action: str, values: Sequence[str] | None = None
    ) -> None:
        """Check rights, review the flag, edit the alert, carry out the action."""


async def _hand_over(interaction: discord.Interaction, flag_id: int, action: str, values: Sequence[str] | None) -> None:
    handler = getattr(interaction.client, "dosewise", None)
    if isinstance(handler, ReviewHandler):
        await handler.on_review_click(interaction, flag_id, action, values)


class FlagButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID_TEMPLATE):
    """One review button, `dosewise:flag:<id>:<action>`, rebuilt from its id on every click."""

    def __init__(self, flag_id: int, action: str, label: str = "", style: discord.ButtonStyle | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or action.capitalize(),
                style=style or discord.ButtonStyle.secondary,
                custom_id=f"dosewise:flag:{flag_id}:{action}",
                row=0,
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

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Clicks only: a pick in the time-out menu matches this template too and is the menu's to handle."""
        return is_component(interaction.data, discord.ComponentType.button)

    async def callback(self, interaction: discord.Interaction) -> None:
        """Hand the click to the adapter attached to the client; a button time-out takes the default."""
        await _hand_over(interaction, self.flag_id, self.action, None)


def timeout_options(default_minutes: int) -> list[discord.SelectOption]:
    """The time-out menu's choices, shortest first; the configured default is offered too."""
    minutes = sorted({*TIMEOUT_CHOICES, default_minutes})
    return [
        discord.SelectOption(
            label=duration_text(m * 60),
            value=str(m),
            description="the configured default" if m == default_minutes else None,
        )
        for m in minutes
    ]


class TimeoutMenu(discord.ui.DynamicItem[discord.ui.Select[Any]], template=TIMEOUT_MENU_TEMPLATE):
    """The time-out menu, `dosewise:flag:<id>:timeout`; the duration picked arrives in its values."""

    def __init__(self, flag_id: int, options: Sequence[discord.SelectOption] = ()) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=custom_id(flag_id, ModAction.TIMEOUT),
                placeholder=TIMEOUT_PLACEHOLDER,
                options=list(options),
                min_values=1,
                max_values=1,
                row=1,
            )
        )
        self.flag_id = flag_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> TimeoutMenu:
        """Rebuild the menu from a pick, keeping the options the alert was posted with."""
        options = item.options if isinstance(item, discord.ui.Select) else []
        return cls(int(match["id"]), options)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Picks only: an old alert's time-out button has this very id and is the button's to handle."""
        return is_component(interaction.data, discord.ComponentType.string_select)

    async def callback(self, interaction: discord.Interaction) -> None:
        """Hand the pick to the adapter, which checks rights and the duration."""
        await _hand_over(interaction, self.flag_id, ModAction.TIMEOUT.value, list(self.item.values))


def alert_view(flag_id: int, default_timeout_minutes: int) -> discord.ui.View:
    """The review buttons and the time-out menu for an open flag."""
    view = discord.ui.View(timeout=None)
    for action, label, style in BUTTONS:
        view.add_item(FlagButton(flag_id, action.value, label, style))
    view.add_item(TimeoutMenu(flag_id, timeout_options(default_timeout_minutes)))
    return view
