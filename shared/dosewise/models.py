"""Frozen data passed between the platform adapters and the core.

Every id is a `str` (Discord snowflakes, Slack ids and console names alike) and every time is a
timezone-aware UTC `datetime`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class Platform(StrEnum):
    """Where a message or command came from."""

    DISCORD = "discord"
    SLACK = "slack"
    CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class UserRef:
    """A member as the adapter saw them; `is_moderator` is decided by the adapter from roles/groups."""

    id: str
    name: str = ""
    is_moderator: bool = False
    roles: tuple[str, ...] = ()
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where a message lives: unique per (platform, channel_id, message_id)."""

    platform: str
    server_id: str
    channel_id: str
    message_id: str
    permalink: str = ""


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A chat message (new or edited) handed to `BotCore.screen`."""

    ref: MessageRef
    author: UserRef
    text: str
    sent_at: datetime
    edited: bool = False
    # The platform's delivery id (Slack event_id, Discord message id + edit time); used to drop retries.
    event_id: str = ""


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """A `/microdosing` invocation: `text` is a topic slug, an alias, a question, or empty."""

    platform: str
    server_id: str
    channel_id: str
    user: UserRef
    text: str = ""


class ReplyKind(StrEnum):
    """What kind of answer the core produced."""

    ANSWER = "answer"
    TOPICS = "topics"
    REFUSAL = "refusal"


@dataclass(frozen=True, slots=True)
class Section:
    """A titled block of an answer; `body` is plain text with `- ` bullet lines."""

    heading: str
    body: str


@dataclass(frozen=True, slots=True)
class SourceLink:
    """A citation: a short human label and a resolvable URL (a DOI link where there is one)."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class TopicChoice:
    """A topic as offered in lists and autocomplete."""

    slug: str
    title: str


@dataclass(frozen=True, slots=True)
class Reply:
    """A platform-neutral answer; each adapter's `render` turns it into an embed, blocks or text."""

    kind: ReplyKind
    title: str
    summary: str
    sections: tuple[Section, ...] = ()
    sources: tuple[SourceLink, ...] = ()
    footer: str = ""
    topic: str = ""
    topics: tuple[TopicChoice, ...] = ()


class Category(StrEnum):
    """Which kind of sourcing a flag is about."""

    OFFER = "offer"
    REQUEST = "request"
    REFERRAL = "referral"
    LOGISTICS = "logistics"
    REPORTED = "reported"


@dataclass(frozen=True, slots=True)
class Reason:
    """One signal that fired: rule id, signal family, and the span of the original text it matched."""

    rule: str
    signal: str
    span: tuple[int, int]
    match: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """The detector's judgement of one text."""

    flagged: bool
    score: float
    category: Category | None = None
    reasons: tuple[Reason, ...] = ()


class FlagStatus(StrEnum):
    """A flag is open until a moderator upholds or dismisses it."""

    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class FlagSource(StrEnum):
    """Who raised a flag."""

    DETECTOR = "detector"
    REPORT = "report"


class ModAction(StrEnum):
    """A moderator's review decision; everything but DISMISS upholds the flag."""

    DISMISS = "dismiss"
    UPHOLD = "uphold"
    DELETE = "delete"
    TIMEOUT = "timeout"
    BAN = "ban"


@dataclass(frozen=True, slots=True)
class Flag:
    """A flagged message and its review state, as stored."""

    id: int
    ref: MessageRef
    author: UserRef
    text: str
    score: float
    category: str
    reasons: tuple[Reason, ...]
    source: FlagSource
    status: FlagStatus
    created_at: datetime
    updated_at: datetime
    # The text as first flagged when the message was edited since ("" otherwise or after purge).
    original_text: str = ""
    reporter: UserRef | None = None
    reviewed_by: UserRef | None = None
    reviewed_at: datetime | None = None
    action: ModAction | None = None
    note: str = ""
    # Where the moderator alert was posted, so it can be edited after a review.
    alert_ref: MessageRef | None = None
    text_purged: bool = False


@dataclass(frozen=True, slots=True)
class Escalation:
    """Repeat-offender advice: the author has `upheld` upheld flags within `window_days`."""

    upheld: int
    window_days: int
    timeout_seconds: int
    apply: bool


@dataclass(frozen=True, slots=True)
class ScreenOutcome:
    """What should happen after screening one message.

    `is_new` means post an alert; a flagged message that was edited comes back with `is_new=False` and
    the updated flag (update the alert). `hide` means delete the message now where the platform allows.
    `skipped` says why nothing was screened (exempt channel or role, bot author, duplicate delivery).
    `stored` is False when the store was unavailable: the flag is queued for retry, the alert still goes.
    """

    verdict: Verdict
    flag: Flag | None = None
    is_new: bool = False
    hide: bool = False
    escalation: Escalation | None = None
    skipped: str = ""
    stored: bool = True


@dataclass(frozen=True, slots=True)
class ReviewRequest:
    """A moderator's decision on a flag, from a button, a command or the CLI."""

    flag_id: int
    action: ModAction
    moderator: UserRef
    note: str = ""
    timeout_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    """The reviewed flag and the platform actions the adapter must now carry out."""

    flag: Flag
    action: ModAction
    moderator: UserRef
    delete_message: bool = False
    timeout_seconds: int = 0
    ban: bool = False
    # Set when this uphold brings the author to the repeat-offender threshold (suggest or apply a timeout).
    escalation: Escalation | None = None


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """A member's report of a message ("Report to moderators")."""

    message: IncomingMessage
    reporter: UserRef
    note: str = ""


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One change to a flag: who did what, when, with an optional note."""

    id: int
    flag_id: int
    actor_id: str
    actor_name: str
    action: str
    note: str
    at: datetime
