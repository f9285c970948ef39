"""The Discord adapter's behaviour: screen messages, post and update alerts, run reviews and reports.

Every handler catches its own failures: discord.py only logs exceptions raised in event handlers, so an
unhandled one would silently drop a moderator's click. Custom events (`dosewise_screened`,
`dosewise_alert`, `dosewise_review_done`) are dispatched on the client for extensions, tests and
benchmarks to observe.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import discord
from discord import app_commands

from dosewise.core import BotCore
from dosewise.errors import DosewiseError, NotAModerator
from dosewise.models import (
    Escalation,
    Flag,
    FlagStatus,
    MessageRef,
    ModAction,
    Platform,
    ScreenOutcome,
)
from dosewise.settings import Settings
from dosewise_discord import actions, render, translate
from dosewise_discord.views import FlagButton, TimeoutMenu, alert_view

log = logging.getLogger(__name__)

ModChannel = discord.TextChannel | discord.Thread | discord.PartialMessageable


class DiscordAdapter:
    """Holds the core and the client; the client's event methods and buttons call into it."""

    def __init__(self, core: BotCore, settings: Settings, client: discord.Client) -> None:
        self.core = core
        self.settings = settings
        self.config = settings.discord
        self.client = client
        self._warned_no_mod_channel = False
        self._warned_foreign_channel: set[int] = set()

    @property
    def default_timeout_seconds(self) -> int:
        """The time-out applied by an alert's plain "Time out" button (older alerts), in seconds."""
        return self.config.default_timeout_minutes * 60

    # -- startup ------------------------------------------------------------------------------------

    async def setup(self, tree: app_commands.CommandTree[discord.Client]) -> None:
        """Register the persistent buttons and menu, and sync the commands (from the process holding shard 0)."""
        self.client.add_dynamic_items(FlagButton, TimeoutMenu)
        shard_ids = self.config.shard_ids
        if shard_ids is not None and 0 not in shard_ids:
            return
        # Retention reaches the mod channel too; one process (shard 0's) does it, like the command sync.
        self.core.attach_alert_clearer(Platform.DISCORD.value, self.clear_alert)
        try:
            synced = await tree.sync()
        except discord.HTTPException as exc:
            # Commands registered earlier keep working; screening and buttons do not need a sync.
            log.warning("could not sync application commands: %s %s", exc.status, exc.text)
            return
        log.info("synced %d application commands", len(synced))

    # -- the mod channel ----------------------------------------------------------------------------

    def _roles(self, guild_id: int | None) -> tuple[str, ...]:
        """Moderator roles of a server: its `servers.<id>.moderators`, else `discord.moderator_roles`."""
        own = self.core.policy_for(str(guild_id or "")).moderators
        return self.config.moderator_roles if own is None else own

    def _mod_channel_setting(self, guild: discord.Guild | None) -> str:
        own = self.core.policy_for(str(guild.id) if guild else "").mod_channel
        return (self.config.mod_channel if own is None else own).strip().lstrip("#")

    def mod_channel(self, guild: discord.Guild | None) -> ModChannel | None:
        """The server's mod channel: an id, or a channel name looked up in the message's server."""
        wanted = self._mod_channel_setting(guild)
        if not wanted:
            if not self._warned_no_mod_channel:
                log.warning("discord.mod_channel is not set: flags are stored but no alert is posted")
                self._warned_no_mod_channel = True
            return None
        if wanted.isdigit():
            channel = self.client.get_channel(int(wanted))
            if isinstance(channel, discord.TextChannel | discord.Thread):
                if guild is not None and channel.guild.id != guild.id:
                    # One server's flagged messages must never be shown to another server's moderators.
                    if guild.id not in self._warned_foreign_channel:
                        log.warning(
                            "the mod channel %s is not in server %s: no alert posted (set servers.%s.mod_channel)",
                            wanted,
                            guild.id,
                            guild.id,
                        )
                        self._warned_foreign_channel.add(guild.id)
                    return None
                return channel
            return self.client.get_partial_messageable(int(wanted), guild_id=guild.id if guild else None)
        if guild is None:
            return None
        return discord.utils.get(guild.text_channels, name=wanted)

    def _mod_channel_id(self, guild: discord.Guild | None) -> int | None:
        channel = self.mod_channel(guild) if self._mod_channel_setting(guild) else None
        return channel.id if channel is not None else None

    # -- screening ----------------------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        """Screen a new message."""
        await self._screen(message)

    async def on_raw_message_edit(self, event: discord.RawMessageUpdateEvent) -> None:
        """Screen an edit, cached or not; embed unfurls (no edit time) are not edits."""
        if translate.is_real_edit(event):
            await self._screen(event.message)

    async def _screen(self, message: discord.Message) -> None:
        self_id = self.client.user.id if self.client.user else None
        if translate.skip_reason(message, self_id, self._mod_channel_id(message.guild)):
            return
        incoming = translate.incoming_message(message, self._roles(message.guild.id if message.guild else None))
        try:
            outcome = await self.core.screen(incoming)
            await self._act_on(message.guild, outcome)
        except Exception:
            log.exception("screening message %s in channel %s failed", message.id, message.channel.id)
            return
        self.client.dispatch("dosewise_screened", incoming, outcome)

    async def _act_on(self, guild: discord.Guild | None, outcome: ScreenOutcome) -> None:
        flag = outcome.flag
        if flag is None:
            return
        notes: list[str] = []
        if outcome.hide:
            notes.append(await actions.delete_message(self.client, flag.ref, automatic=True))
        escalation = outcome.escalation
        if escalation is not None and escalation.apply:
            reason = f"Dosewise: repeat offender ({escalation.upheld} upheld flags in {escalation.window_days} days)"
            notes.append(
                await actions.timeout_member(
                    self.client, flag.ref.server_id, flag.author.id, escalation.timeout_seconds, reason
                )
            )
        if not outcome.is_new and flag.alert_ref is not None:
            await self._edit_alert(flag.alert_ref, flag, escalation=escalation, notes=notes)
        else:
            await self.post_alert(guild, flag, escalation=escalation, notes=notes, stored=outcome.stored)

    # -- alerts -------------------------------------------------------------------------------------

    def _view_for(self, flag: Flag, stored: bool = True) -> discord.ui.View | None:
        # A flag waiting for the store has a provisional id no button could review.
        if flag.status is not FlagStatus.OPEN or not stored or flag.id <= 0:
            return None
        return alert_view(flag.id, self.config.default_timeout_minutes)

    async def post_alert(
        self,
        guild: discord.Guild | None,
        flag: Flag,
        *,
        escalation: Escalation | None = None,
        notes: Sequence[str] = (),
        stored: bool = True,
    ) -> discord.Message | None:
        """Post the alert with its buttons in the mod channel and remember where it is."""
        channel = self.mod_channel(guild)
        if channel is None:
            return None
        notes = list(notes)
        if not stored:
            notes.append("The flag store is busy: this flag is queued and can be reviewed once stored.")
        embed = render.alert_embed(flag, escalation=escalation, notes=notes)
        view = self._view_for(flag, stored)
        try:
            if view is None:
                alert = await channel.send(embed=embed)
            else:
                alert = await channel.send(embed=embed, view=view)
        except discord.HTTPException as exc:
            log.warning("could not post the alert for flag #%s: %s %s", flag.id, exc.status, exc.text)
            return None
        ref = MessageRef(
            platform=Platform.DISCORD.value,
            server_id=str(alert.guild.id) if alert.guild else flag.ref.server_id,
            channel_id=str(alert.channel.id),
            message_id=str(alert.id),
            permalink=alert.jump_url,
        )
        try:
            await self.core.record_alert(flag.id, ref)
        except DosewiseError as exc:
            log.warning("could not record the alert for flag #%s: %s", flag.id, exc.user_message)
        self.client.dispatch("dosewise_alert", flag, alert)
        return alert

    async def _edit_alert(
        self,
        alert: MessageRef,
        flag: Flag,
        *,
        escalation: Escalation | None = None,
        notes: Sequence[str] = (),
        keep_view: bool = True,
    ) -> None:
        channel = self.client.get_partial_messageable(int(alert.channel_id))
        embed = render.alert_embed(flag, escalation=escalation, notes=notes)
        view = self._view_for(flag) if keep_view else None
        try:
            await channel.get_partial_message(int(alert.message_id)).edit(embed=embed, view=view)
        except discord.HTTPException as exc:
            log.warning("could not update the alert for flag #%s: %s %s", flag.id, exc.status, exc.text)

    # -- reviews ------------------------------------------------------------------------------------

    async def on_review_click(
        self, interaction: discord.Interaction, flag_id: int, action: str, values: Sequence[str] | None = None
    ) -> None:
        """A review button or a time-out pick (`values`): moderators only; edit the alert, act, report back."""
        try:
            await self._review_click(interaction, flag_id, action, values)
        except Exception:
            log.exception("review of flag #%s (%s) failed", flag_id, action)
            await _tell(interaction, "Something went wrong with this review; nothing more was done.")
        finally:
            self.client.dispatch("dosewise_review_done", interaction, flag_id, action)

    async def _review_click(
        self, interaction: discord.Interaction, flag_id: int, action_name: str, values: Sequence[str] | None
    ) -> None:
        moderator = translate.interaction_user(interaction, self._roles(interaction.guild_id))
        if not moderator.is_moderator:
            await _tell(interaction, NotAModerator().user_message)
            return
        if not await self._flag_of_this_server(interaction, flag_id):
            return
        try:
            action = ModAction(action_name)
        except ValueError:
            await _tell(interaction, f"Unknown review action {action_name!r}; nothing changed.")
            return
        minutes = None
        if values is not None:
            minutes = translate.timeout_minutes(values)
            if minutes is None:
                await _tell(interaction, f"Unknown time-out duration {', '.join(values)!r}; nothing changed.")
                return
        request = translate.review_request(flag_id, action, moderator, self.default_timeout_seconds, minutes)
        # A busy store must not let Discord's 3-second deadline expire and show "interaction failed".
        await interaction.response.defer()
        try:
            outcome = await self.core.review(request)
        except DosewiseError as exc:
            await _tell(interaction, exc.user_message)
            return
        flag = outcome.flag
        embed = render.alert_embed(flag, escalation=outcome.escalation, outcome=outcome)
        await interaction.edit_original_response(embed=embed, view=None)
        notes = await actions.carry_out(self.client, outcome)
        if notes:
            embed = render.alert_embed(flag, escalation=outcome.escalation, outcome=outcome, notes=notes)
            try:
                await interaction.edit_original_response(embed=embed)
            except discord.HTTPException as exc:
                log.warning("could not report actions on flag #%s: %s %s", flag.id, exc.status, exc.text)
        # A click from `/flags show` reviews in a private message: keep the channel alert in step.
        alert = flag.alert_ref
        clicked = interaction.message.id if interaction.message else None
        if alert is not None and alert.message_id != str(clicked):
            await self._edit_alert(alert, flag, escalation=outcome.escalation, notes=notes, keep_view=False)

    async def _flag_of_this_server(self, interaction: discord.Interaction, flag_id: int) -> bool:
        """Refuse a review of another server's flag: its moderators are not this server's."""
        try:
            flag = await self.core.get_flag(flag_id)
        except DosewiseError:
            return True  # the review itself says what is wrong (e.g. no such flag, store busy)
        if flag.ref.server_id == str(interaction.guild_id or ""):
            return True
        await _tell(interaction, f"There is no flag #{flag_id}.")
        return False

    # -- retention ----------------------------------------------------------------------------------

    async def clear_alert(self, flag: Flag) -> bool:
        """Re-render a purged flag's alert without the message text; False means "try again later"."""
        if flag.alert_ref is None:
            return True
        channel = self.client.get_partial_messageable(int(flag.alert_ref.channel_id))
        try:
            await channel.get_partial_message(int(flag.alert_ref.message_id)).edit(
                embed=render.alert_embed(flag), view=self._view_for(flag)
            )
        except (discord.NotFound, discord.Forbidden) as exc:
            # Deleted, or no longer ours to edit: retrying would not change that.
            log.info("alert of flag #%s not cleared: %s %s", flag.id, exc.status, exc.text)
            return True
        except discord.HTTPException as exc:
            log.warning("could not clear the alert of flag #%s, will retry: %s %s", flag.id, exc.status, exc.text)
            return False
        return True

    # -- commands -----------------------------------------------------------------------------------

    async def microdosing(self, interaction: discord.Interaction, text: str, private: bool) -> None:
        """Answer `/microdosing` with an embed, privately unless asked otherwise."""
        request = translate.command_request(interaction, self._roles(interaction.guild_id), text)
        reply = self.core.answer(request)
        await interaction.response.send_message(embed=render.reply_embed(reply), ephemeral=private)

    def topic_choices(self, current: str) -> list[app_commands.Choice[str]]:
        """Autocomplete for the topic option: at most 25 choices, names and values within 100 chars."""
        return [
            app_commands.Choice(name=render.truncate(t.title or t.slug, 100), value=t.slug[:100])
            for t in self.core.autocomplete(current, 25)[:25]
        ]

    async def report(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """A member's "Report to moderators": a flag, an alert, and a private thank-you."""
        if interaction.guild_id is None:
            await _tell(interaction, "Reports work in servers only.")
            return
        request = translate.report_request(interaction, message, self._roles(interaction.guild_id))
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            outcome = await self.core.report(request)
        except DosewiseError as exc:
            await _tell(interaction, exc.user_message)
            return
        await _tell(interaction, "Thank you. The moderators have been told and will have a look.")
        if outcome.flag is not None and outcome.is_new:
            await self.post_alert(interaction.guild, outcome.flag, stored=outcome.stored)

    def _moderator_or_none(self, interaction: discord.Interaction) -> bool:
        return translate.interaction_user(interaction, self._roles(interaction.guild_id)).is_moderator

    async def flags_list(self, interaction: discord.Interaction, status: FlagStatus) -> None:
        """`/flags list`: the queue (or reviewed flags) of this server, for moderators."""
        if not self._moderator_or_none(interaction):
            await _tell(interaction, NotAModerator().user_message)
            return
        server = str(interaction.guild_id or "")
        if status is FlagStatus.OPEN:
            flags = await self.core.pending_flags(server, limit=25)
        else:
            flags = await self.core.flags(status, server, limit=25)
        title = "Open flags" if status is FlagStatus.OPEN else f"Recently {status.value} flags"
        await interaction.response.send_message(embed=render.flags_list_embed(flags, title), ephemeral=True)

    async def flags_show(self, interaction: discord.Interaction, flag_id: int) -> None:
        """`/flags show`: one flag as its alert, with review buttons while it is open."""
        if not self._moderator_or_none(interaction):
            await _tell(interaction, NotAModerator().user_message)
            return
        try:
            flag = await self.core.get_flag(flag_id)
        except DosewiseError as exc:
            await _tell(interaction, exc.user_message)
            return
        if flag.ref.server_id != str(interaction.guild_id or ""):
            # Another server's flag does not exist as far as this server's moderators are concerned.
            await _tell(interaction, f"There is no flag #{flag_id}.")
            return
        embed = render.alert_embed(flag)
        view = self._view_for(flag)
        if view is None:
            await interaction.response.send_message(embed=embed, ephemeral=True)
        else:
            await interaction.response.send_message(embed=embed, view=view, ephemeral=True)


async def _tell(interaction: discord.Interaction, text: str) -> None:
    """Answer privately, whether or not the interaction was already answered."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("could not answer interaction %s: %s %s", interaction.id, exc.status, exc.text)
