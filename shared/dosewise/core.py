"""`BotCore`: the one object every adapter holds; it answers, screens, and runs reviews."""

from __future__ import annotations

from collections.abc import Sequence

from dosewise.content import Content
from dosewise.models import (
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
)
from dosewise.settings import Settings


class BotCore:
    """Platform-neutral bot: built once from Settings by the entry point, handed to an adapter."""

    def __init__(self, settings: Settings, content: Content) -> None:
        self.settings = settings
        self.content = content

    @classmethod
    async def open(cls, settings: Settings) -> BotCore:
        """Load content, compile the detector, open (and migrate) the store."""
        return cls(settings, Content.load(settings.content_dir))

    async def close(self) -> None:
        """Flush pending work and close the store."""

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

    async def screen(self, message: IncomingMessage) -> ScreenOutcome:
        """Screen a new or edited message; flag it, apply policy, and say what the adapter should do."""
        raise NotImplementedError

    async def report(self, request: ReportRequest) -> ScreenOutcome:
        """Turn a member's report into a flag (reason: reported by a member)."""
        raise NotImplementedError

    async def review(self, request: ReviewRequest) -> ReviewOutcome:
        """Apply a moderator's decision; raises NotAModerator, FlagNotFound or FlagAlreadyReviewed."""
        raise NotImplementedError

    async def pending_flags(self, server_id: str | None = None, limit: int = 25) -> Sequence[Flag]:
        """Open flags, oldest first, for one server (or all)."""
        raise NotImplementedError

    async def flags(
        self, status: FlagStatus | None = None, server_id: str | None = None, limit: int = 100
    ) -> Sequence[Flag]:
        """Flags filtered by status and server, newest first."""
        raise NotImplementedError

    async def get_flag(self, flag_id: int) -> Flag:
        """One flag by id; raises FlagNotFound."""
        raise NotImplementedError

    async def record_alert(self, flag_id: int, alert: MessageRef) -> None:
        """Remember where a flag's moderator alert was posted, so it can be edited after review."""
        raise NotImplementedError
