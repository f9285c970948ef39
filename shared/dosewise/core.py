"""`BotCore`: the one object every adapter holds; it answers, screens, and runs reviews."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from dosewise.content import Content
from dosewise.errors import StoreError
from dosewise.models import (
    AuditEvent,
    CommandRequest,
    Flag,
    FlagStatus,
    IncomingMessage,
    MessageRef,
    Reply,
    ReportRequest,
    ReviewOutcome,
    ReviewRequest,
    ScreenOutcome,
    TopicChoice,
    utcnow,
)
from dosewise.moderation import AlertClearer, ModerationService
from dosewise.server_detectors import ServerDetectors
from dosewise.settings import Policy, Settings
from dosewise.store import FlagStats, Store


class BotCore:
    """Platform-neutral bot: built once from Settings by the entry point, handed to an adapter."""

    def __init__(self, settings: Settings, content: Content, moderation: ModerationService | None = None) -> None:
        self.settings = settings
        self.content = content
        self._moderation = moderation

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        now: Callable[[], datetime] = utcnow,
        busy_timeout: float = 1.0,
    ) -> BotCore:
        """Load content, compile the detectors, open (and migrate) the store, purge expired text."""
        content = Content.load(settings.content_dir)
        detectors = ServerDetectors(settings)
        detectors.warm()
        store = await Store.open(settings.database, busy_timeout=busy_timeout)
        moderation = ModerationService(store, settings, detectors, now=now)
        await moderation.reload_policies()
        # A busy database must not stop the bot from starting: purge_or_log logs and carries on.
        await moderation.purge_or_log()
        moderation.start_retention()
        moderation.start_policy_refresh()
        return cls(settings, content, moderation)

    async def close(self) -> None:
        """Stop retention, flush queued flag writes (for a few seconds at most) and close the store."""
        if self._moderation is not None:
            await self._moderation.close()
            await self._moderation.store.close()

    @property
    def moderation(self) -> ModerationService:
        """The moderation workflow (only on a core made by `BotCore.open`)."""
        if self._moderation is None:
            raise StoreError("this BotCore has no store; create it with `await BotCore.open(settings)`")
        return self._moderation

    # -- members -----------------------------------------------------------------------------------

    def answer(self, request: CommandRequest) -> Reply:
        """Answer a `/microdosing` request: a topic, the topic list, or a refusal to help sourcing."""
        return self.content.answer(request.text)

    def topics(self) -> tuple[TopicChoice, ...]:
        """All topics in display order."""
        return self.content.topics()

    def autocomplete(self, prefix: str, limit: int = 25) -> tuple[TopicChoice, ...]:
        """Topics matching what a member has typed so far (fuzzy on titles and aliases)."""
        return self.content.autocomplete(prefix, limit)

    # -- screening and moderation (issue 4) --------------------------------------------------------

    def policy_for(self, server_id: str) -> Policy:
        """The moderation policy in force for a server (config file plus run-time settings)."""
        if self._moderation is None:
            return self.settings.policy_for(server_id)
        return self._moderation.policies.policy_for(server_id)

    async def screen(self, message: IncomingMessage) -> ScreenOutcome:
        """Screen a new or edited message; flag it, apply policy, and say what the adapter should do."""
        return await self.moderation.screen(message)

    async def report(self, request: ReportRequest) -> ScreenOutcome:
        """Turn a member's report into a flag (reason: reported by a member)."""
        return await self.moderation.report(request)

    async def review(self, request: ReviewRequest) -> ReviewOutcome:
        """Apply a moderator's decision; raises NotAModerator, FlagNotFound or FlagAlreadyReviewed."""
        return await self.moderation.review(request)

    async def pending_flags(self, server_id: str | None = None, limit: int = 25) -> Sequence[Flag]:
        """Open flags, oldest first, for one server (or all)."""
        return await self.moderation.pending_flags(server_id, limit)

    async def flags(
        self, status: FlagStatus | None = None, server_id: str | None = None, limit: int = 100
    ) -> Sequence[Flag]:
        """Flags filtered by status and server, newest first."""
        return await self.moderation.flags(status, server_id, limit)

    async def get_flag(self, flag_id: int) -> Flag:
        """One flag by id; raises FlagNotFound."""
        return await self.moderation.get_flag(flag_id)

    async def record_alert(self, flag_id: int, alert: MessageRef) -> None:
        """Remember where a flag's moderator alert was posted, so it can be edited after review."""
        await self.moderation.record_alert(flag_id, alert)

    async def audit(self, flag_id: int) -> Sequence[AuditEvent]:
        """The audit trail of a flag (who did what, when, with notes), oldest first."""
        return await self.moderation.audit(flag_id)

    async def stats(self, server_id: str | None = None) -> FlagStats:
        """Flags per day and by status; `dismissed_share` is the false-positive rate moderators see."""
        return await self.moderation.stats(server_id)

    async def purge(self, now: datetime | None = None) -> int:
        """Apply retention now: remove message text older than `retention_days`; returns flags purged."""
        return await self.moderation.purge(now)

    def attach_alert_clearer(self, platform: str, clear: AlertClearer) -> None:
        """Register how an adapter re-renders a purged flag's alert, so retention reaches the mod channel too."""
        self.moderation.attach_alert_clearer(platform, clear)

    async def flush(self, within: float | None = None) -> bool:
        """Wait until flags queued while the database was unavailable are stored."""
        return await self.moderation.flush(within)
