"""Pure translation of console input lines into the core's requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dosewise.models import (
    CommandRequest,
    IncomingMessage,
    MessageRef,
    ModAction,
    Platform,
    ReviewRequest,
    UserRef,
)
from dosewise.settings import ConsoleSettings

SERVER_ID = "console"


@dataclass(frozen=True, slots=True)
class SwitchUser:
    """`:as NAME` — speak as another user."""

    name: str


@dataclass(frozen=True, slots=True)
class EditMessage:
    """`:edit N TEXT` — edit message number N (it is screened again)."""

    number: int
    text: str


@dataclass(frozen=True, slots=True)
class SlashCommand:
    """`/name args` — a command such as /microdosing, /flags, /report, /help."""

    name: str
    args: str


@dataclass(frozen=True, slots=True)
class ChatLine:
    """Any other line: a message posted to the channel."""

    text: str


@dataclass(frozen=True, slots=True)
class Quit:
    """`:quit` or end of input."""


@dataclass(frozen=True, slots=True)
class Blank:
    """An empty line: nothing to do."""


@dataclass(frozen=True, slots=True)
class BadInput:
    """A line that looks like a console directive but is malformed; `problem` says how to fix it."""

    problem: str


ConsoleInput = SwitchUser | EditMessage | SlashCommand | ChatLine | Quit | Blank | BadInput


def parse_line(line: str) -> ConsoleInput:
    """Classify one line typed at the console."""
    text = line.rstrip("\r\n")
    stripped = text.strip()
    if not stripped:
        return Blank()
    if stripped.startswith(":"):
        word, _, rest = stripped[1:].partition(" ")
        rest = rest.strip()
        if word in ("quit", "q", "exit"):
            return Quit()
        if word == "as":
            return SwitchUser(rest) if rest and " " not in rest else BadInput("usage: :as NAME (one word)")
        if word == "edit":
            number, _, new_text = rest.partition(" ")
            if not number.isdigit() or not new_text.strip():
                return BadInput("usage: :edit MESSAGE-NUMBER NEW TEXT")
            return EditMessage(int(number), new_text.strip())
        # Anything else starting with ':' is ordinary chat (":)" is a smiley, not a directive).
        return ChatLine(text)
    if stripped.startswith("/") and len(stripped) > 1 and stripped[1].isalpha():
        name, _, args = stripped[1:].partition(" ")
        return SlashCommand(name.lower(), args.strip())
    return ChatLine(text)


def to_user(name: str, console: ConsoleSettings) -> UserRef:
    """The console user called `name`; moderators are the names listed in the config."""
    return UserRef(id=name, name=name, is_moderator=name in console.moderators)


def to_incoming_message(
    number: int, channel: str, author: UserRef, text: str, sent_at: datetime, *, edited: bool = False
) -> IncomingMessage:
    """A console chat line as a message the core can screen."""
    ref = MessageRef(Platform.CONSOLE, SERVER_ID, channel, str(number), permalink=f"#{channel}/{number}")
    event = f"{number}:{sent_at.isoformat()}"
    return IncomingMessage(ref=ref, author=author, text=text, sent_at=sent_at, edited=edited, event_id=event)


def to_command_request(channel: str, user: UserRef, args: str) -> CommandRequest:
    """`/microdosing ARGS` as a command request."""
    return CommandRequest(Platform.CONSOLE, SERVER_ID, channel, user, args)


REVIEW_USAGE = "usage: /flags resolve FLAG-ID dismiss|uphold|delete|timeout|ban [note]"


def to_review(args: str, moderator: UserRef) -> ReviewRequest:
    """`/flags resolve ID ACTION [note]` as a review request; ValueError with the usage if malformed."""
    parts = args.split(maxsplit=2)
    if len(parts) < 2 or not parts[0].lstrip("#").isdigit():
        raise ValueError(REVIEW_USAGE)
    try:
        action = ModAction(parts[1].lower())
    except ValueError:
        raise ValueError(REVIEW_USAGE) from None
    note = parts[2] if len(parts) == 3 else ""
    return ReviewRequest(flag_id=int(parts[0].lstrip("#")), action=action, moderator=moderator, note=note)
